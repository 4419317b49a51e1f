-- Rule: every dollar posted to a claim is in its money. Per claim, fct_payments' payer
-- rows (835 CLP04, reversals negative) sum to fct_claims.payer_paid and its patient rows
-- (refunds negative) to patient_paid; payments applied to no claim (PLB, self-pay) are
-- left out. Returns one row per claim that does not tie.
-- A test of several models: dagster-dbt attaches it to fct_payments as an asset check (so
-- publishing waits for it) through this meta ref.
{{ config(meta={'dagster': {'ref': {'name': 'fct_payments'}}}) }}

with

payments as (

    select * from {{ ref('fct_payments') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

payment_totals as (

    select
        claim_id,
        sum(case when payment_source = 'payer' then amount else 0 end) as payer_amount,
        sum(case when payment_source = 'patient' then amount else 0 end) as patient_amount
    from payments
    where claim_id is not null
    group by claim_id

),

compared as (

    select
        claims.claim_id,
        payment_totals.claim_id as payments_claim_id,
        claims.payer_paid,
        claims.patient_paid,
        coalesce(payment_totals.payer_amount, 0) as payer_payments,
        coalesce(payment_totals.patient_amount, 0) as patient_payments
    from claims
    full outer join payment_totals
        on claims.claim_id = payment_totals.claim_id

)

select *
from compared
where
    -- payments to a claim fct_claims does not have
    claim_id is null
    or payer_paid != payer_payments
    or patient_paid != patient_payments
