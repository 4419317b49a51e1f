-- Every 835 claim payment (CLP) with its payer, date, money and what kind of
-- adjudication it is, in the order the claim's adjudications happened.
-- Kinds (X12 835 CLP02 claim status; CARC 18 = exact duplicate):
--   reversal          CLP02 22: reverses an earlier adjudication, all amounts negated
--   secondary         CLP02 2, 3, 20, 21: processed as secondary or tertiary
--   duplicate_denied  CLP02 4 with CARC 18: a resend denied as a duplicate
--   claim_denied      CLP02 4: the whole claim denied
--   line_denied       processed as primary (CLP02 1, 19) with a denial CARC on a line
--   paid              processed as primary, no denial
-- CLP02 19 also says the payer forwarded the claim to the secondary (Medicare crossover).
with

remit_claims as (

    select * from {{ ref('stg_remits_835__claims') }}

),

remittances as (

    select * from {{ ref('stg_remits_835__payments') }}

),

remit_lines as (

    select * from {{ ref('stg_remits_835__service_lines') }}

),

adjustments as (

    select * from {{ ref('int_remit_adjustments_classified') }}

),

adjustment_totals as (

    select
        remit_claim_id,
        {{ cas_amount('contractual') }} as contractual_amount,
        {{ cas_amount('patient_responsibility') }} as patient_responsibility_amount,
        {{ cas_amount('denial') }} as denied_amount,
        {{ cas_amount('prior_payer') }} as prior_payer_amount,
        {{ cas_amount('other') }} as other_adjustment_amount,
        sum(adjustment_amount) as adjustment_amount,
        bool_or(is_denial and adjustment_level = 'line') as has_line_denial,
        bool_or(carc_code = '18') as has_duplicate_denial
    from adjustments
    group by remit_claim_id

),

line_totals as (

    select
        remit_claim_id,
        sum(coalesce(allowed_amount, 0)) as allowed_amount,
        count(*) as line_count
    from remit_lines
    group by remit_claim_id

),

classified as (

    select
        remit_claims.remit_claim_id,
        remit_claims.claim_id,
        remit_claims.remittance_id,
        remittances.payer_id,
        remit_claims.payer_claim_control_number,
        remit_claims.claim_status_code,
        remittances.payment_date,
        remit_claims.payer_received_date,
        remit_claims.charge_amount,
        remit_claims.paid_amount,
        remit_claims.patient_responsibility_amount as clp_patient_responsibility_amount,
        remit_claims.file_id,
        remit_claims.segment_index,
        case
            when remit_claims.claim_status_code = '22' then 'reversal'
            when remit_claims.claim_status_code in ('2', '3', '20', '21') then 'secondary'
            when
                remit_claims.claim_status_code = '4'
                and coalesce(adjustment_totals.has_duplicate_denial, false)
                then 'duplicate_denied'
            when remit_claims.claim_status_code = '4' then 'claim_denied'
            when coalesce(adjustment_totals.has_line_denial, false) then 'line_denied'
            else 'paid'
        end as adjudication_kind,
        remit_claims.claim_status_code = '19' as forwarded_to_secondary,
        coalesce(line_totals.allowed_amount, 0) as allowed_amount,
        coalesce(adjustment_totals.contractual_amount, 0) as contractual_amount,
        coalesce(adjustment_totals.patient_responsibility_amount, 0)
            as patient_responsibility_amount,
        coalesce(adjustment_totals.denied_amount, 0) as denied_amount,
        coalesce(adjustment_totals.prior_payer_amount, 0) as prior_payer_amount,
        coalesce(adjustment_totals.other_adjustment_amount, 0) as other_adjustment_amount,
        coalesce(adjustment_totals.adjustment_amount, 0) as adjustment_amount,
        coalesce(line_totals.line_count, 0) as line_count,
        row_number() over (
            partition by remit_claims.claim_id
            order by
                remittances.payment_date,
                remittances.file_id,
                remittances.transaction_index,
                remit_claims.segment_index
        ) as adjudication_sequence
    from remit_claims
    inner join remittances
        on remit_claims.remittance_id = remittances.remittance_id
    left join adjustment_totals
        on remit_claims.remit_claim_id = adjustment_totals.remit_claim_id
    left join line_totals
        on remit_claims.remit_claim_id = line_totals.remit_claim_id

)

select
    *,
    adjudication_kind in ('paid', 'claim_denied', 'line_denied') as is_primary_decision,
    adjudication_kind not in ('secondary') as is_primary_payer
from classified
