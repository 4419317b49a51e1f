-- One row per 835 claim payment (CLP) of a claim the 837Ps know: every adjudication of the
-- claim, in the order they happened, with its kind (int_remit_claims_classified states the
-- rules: X12 835 CLP02 claim status, CARC 18 exact duplicate, CLP02 22 reversal with its
-- amounts negated) and the remittance that carried it (TRN02 check or EFT trace number,
-- BPR16 payment date). The claim's first adjudication is its first primary decision
-- (int_claims_adjudicated), the one the initial denial and clean claim rates count.
with

adjudications as (

    select * from {{ ref('int_remit_claims_classified') }}

),

remittances as (

    select * from {{ ref('stg_remits_835__payments') }}

),

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

),

payer_classes as (

    select * from {{ ref('terminology__payer_classes') }}

),

adjudications_described as (

    select
        adjudications.*,
        remittances.trace_number,
        coalesce(payer_classes.payer_class, 'unknown') as payer_class,
        coalesce(adjudications.adjudication_sequence = claims.first_adjudication_sequence, false)
            as is_first_adjudication
    from adjudications
    inner join claims
        on adjudications.claim_id = claims.claim_id
    inner join remittances
        on adjudications.remittance_id = remittances.remittance_id
    left join payer_classes
        on adjudications.payer_id = payer_classes.payer_id

)

select
    -- ids
    remit_claim_id,
    claim_id,
    remittance_id,
    trace_number,
    payer_claim_control_number,
    payer_id,
    payer_class,

    -- classification
    adjudication_sequence,
    adjudication_kind,
    claim_status_code,
    is_primary_decision,
    is_first_adjudication,
    forwarded_to_secondary as is_forwarded_to_secondary,
    line_count,

    -- amounts
    cast(charge_amount as decimal(18, 2)) as charges,
    cast(paid_amount as decimal(18, 2)) as paid_amount,
    cast(clp_patient_responsibility_amount as decimal(18, 2)) as patient_responsibility,
    cast(allowed_amount as decimal(18, 2)) as allowed_amount,
    cast(contractual_amount as decimal(18, 2)) as contractual_amount,
    cast(denied_amount as decimal(18, 2)) as denied_amount,
    cast(adjustment_amount as decimal(18, 2)) as adjustment_amount,

    -- dates
    payment_date,
    payer_received_date
from adjudications_described
