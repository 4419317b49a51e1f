-- Rule: the claim money identity (int_claims_adjudicated; MGMA/HFMA A/R: what is billed
-- and not yet collected or adjusted off). For every claim, charges = payer paid +
-- contractual + other adjustments + denial write-off + patient paid + balance, to the
-- cent. Returns one row per claim whose money does not add up.
with

claims as (

    select * from {{ ref('fct_claims') }}

),

identity as (

    select
        claim_id,
        charges,
        payer_paid,
        contractual_amount,
        other_adjustment_amount,
        denial_writeoff_amount,
        patient_paid,
        balance,
        payer_paid
        + contractual_amount
        + other_adjustment_amount
        + denial_writeoff_amount
        + patient_paid
        + balance as accounted_for
    from claims

)

select *
from identity
where accounted_for is null or charges != accounted_for
