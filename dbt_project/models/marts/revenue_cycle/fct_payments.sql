-- One row per amount of money received, by posting date: a payer's payment on a claim
-- (835 CLP04; a reversal is negative), a payer's provider-level adjustment (835 PLB:
-- interest, forward balances and recoupments, which are not any claim's), and a
-- patient payment (refunds negative). Per remittance, claim payments plus provider
-- adjustments equal the BPR02 payment total (X12 835 balancing: BPR02 = Σ CLP04 − Σ PLB
-- amounts; a singular test holds it). Money posted to a claim carries the claim's provider
-- and location (its original submission's, as every claim fact); PLB amounts and self-pay
-- payments have none.
with

adjudications as (

    select * from {{ ref('int_remit_claims_classified') }}

),

remittances as (

    select * from {{ ref('stg_remits_835__payments') }}

),

provider_adjustments as (

    select * from {{ ref('stg_remits_835__provider_adjustments') }}

),

patient_payments as (

    select * from {{ ref('int_patient_payments_applied') }}

),

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

),

payer_classes as (

    select * from {{ ref('terminology__payer_classes') }}

),

payments as (

    select
        adjudications.remit_claim_id as payment_id,
        'payer' as payment_source,
        case
            when adjudications.adjudication_kind = 'reversal' then 'reversal'
            when adjudications.adjudication_kind = 'secondary' then 'secondary_claim_payment'
            else 'claim_payment'
        end as payment_type,
        adjudications.claim_id,
        adjudications.payer_id,
        claims.patient_id,
        adjudications.remittance_id,
        remittances.trace_number,
        remittances.payment_method_code as payment_method,
        cast(null as {{ dbt.type_string() }}) as payment_channel,
        adjudications.payment_date as posted_date,
        adjudications.paid_amount as amount
    from adjudications
    inner join remittances
        on adjudications.remittance_id = remittances.remittance_id
    left join claims
        on adjudications.claim_id = claims.claim_id

    union all

    select
        provider_adjustments.provider_adjustment_id as payment_id,
        'payer' as payment_source,
        {{ dbt.concat(["'provider_adjustment_'", 'lower(adjustment_reason_code)']) }}
            as payment_type,
        cast(null as {{ dbt.type_string() }}) as claim_id,
        remittances.payer_id,
        cast(null as {{ dbt.type_string() }}) as patient_id,
        provider_adjustments.remittance_id,
        remittances.trace_number,
        remittances.payment_method_code as payment_method,
        cast(null as {{ dbt.type_string() }}) as payment_channel,
        remittances.payment_date as posted_date,
        -- a positive PLB amount is withheld from the payment; a negative one (interest)
        -- is paid on top
        -provider_adjustments.adjustment_amount as amount
    from provider_adjustments
    inner join remittances
        on provider_adjustments.remittance_id = remittances.remittance_id

    union all

    select
        patient_payment_id as payment_id,
        'patient' as payment_source,
        case when payment_amount < 0 then 'patient_refund' else 'patient_payment' end
            as payment_type,
        claim_id,
        cast(null as {{ dbt.type_string() }}) as payer_id,
        patient_id,
        cast(null as {{ dbt.type_string() }}) as remittance_id,
        cast(null as {{ dbt.type_string() }}) as trace_number,
        payment_method,
        payment_channel,
        posted_date,
        payment_amount as amount
    from patient_payments

)

select
    -- ids
    payments.payment_id,
    payments.payment_source,
    payments.payment_type,
    payments.claim_id,
    payments.payer_id,
    payer_classes.payer_class,
    payments.patient_id,
    claims.provider_npi,
    claims.location_id,
    payments.remittance_id,
    payments.trace_number,

    -- attributes
    payments.payment_method,
    payments.payment_channel,
    payments.payment_source = 'patient' and payments.payment_channel = 'point_of_service'
        as is_point_of_service,
    payments.claim_id is not null as is_applied_to_claim,

    -- amounts
    cast(payments.amount as decimal(18, 2)) as amount,

    -- dates
    payments.posted_date,
    cast({{ dbt.date_trunc('month', 'payments.posted_date') }} as date) as posted_month
from payments
left join payer_classes
    on payments.payer_id = payer_classes.payer_id
left join claims
    on payments.claim_id = claims.claim_id
