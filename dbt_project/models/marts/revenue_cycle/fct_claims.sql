-- One row per claim (CLM01): the claim lifecycle of int_claims_adjudicated as readers
-- need it. Money identity (tested): charges = payer paid + contractual + other
-- adjustments + denial write-off + patient paid + balance.
with

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

)

select
    -- ids
    claim_id,
    patient_id,
    provider_npi,
    location_id,
    payer_id,
    payer_class,
    final_payer_id,

    -- status
    claim_status,
    is_denied_first_pass,
    is_paid_first_pass,
    is_clean_claim,
    is_first_pass_resolved,
    is_reversed,
    is_crossed_over,
    denial_level,
    denial_root_cause,
    denial_group_code,
    denial_carc_code,
    denial_rarc_codes,
    denial_outcome,

    -- counts
    line_count,
    submission_count,
    corrected_count,
    void_count,
    resend_count,
    rebill_count,
    secondary_submission_count,
    adjudication_count,

    -- amounts
    cast(charges as decimal(18, 2)) as charges,
    cast(allowed_amount as decimal(18, 2)) as allowed_amount,
    cast(primary_paid as decimal(18, 2)) as primary_paid,
    cast(secondary_paid as decimal(18, 2)) as secondary_paid,
    cast(payer_paid as decimal(18, 2)) as payer_paid,
    cast(contractual_amount as decimal(18, 2)) as contractual_amount,
    cast(denied_amount as decimal(18, 2)) as denied_amount,
    cast(denial_writeoff_amount as decimal(18, 2)) as denial_writeoff_amount,
    cast(other_adjustment_amount as decimal(18, 2)) as other_adjustment_amount,
    cast(patient_responsibility as decimal(18, 2)) as patient_responsibility,
    cast(patient_paid as decimal(18, 2)) as patient_paid,
    cast(balance as decimal(18, 2)) as balance,

    -- dates
    service_date,
    submission_date,
    first_adjudication_date,
    first_payment_date,
    writeoff_date,
    charge_lag_days,
    days_to_payment
from claims
