-- Patient payments applied to claims: the practice-management system posts each payment
-- against a visit (encounter id), and the encounter id is the claim's CLM01. Payments for
-- self-pay visits (no claim was ever sent) stay unapplied to a claim.
with

payments as (

    select * from {{ ref('stg_patient_payments__payments') }}

),

claims as (

    select distinct claim_id from {{ ref('int_claim_submissions_ranked') }}

)

select
    payments.patient_payment_id,
    payments.patient_id,
    payments.encounter_id,
    claims.claim_id,
    payments.payment_channel,
    payments.payment_method,
    payments.payment_amount,
    payments.payment_date,
    payments.posted_date,
    claims.claim_id is not null as is_applied_to_claim
from payments
left join claims
    on payments.encounter_id = claims.claim_id
