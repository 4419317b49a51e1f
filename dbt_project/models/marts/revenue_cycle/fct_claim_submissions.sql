-- One row per 837P submission of a claim (CLM), with the kind int_claim_submissions_ranked
-- gives it (frequency code CLM05-3, NUBC: 1 original, 7 replacement, 8 void; SBR01 payer
-- order P/S/T): the claim's original (its earliest frequency-1 submission to a primary
-- payer), a corrected claim (7), a void (8), a resend to the same payer, a re-bill to
-- another payer, or a secondary claim. Each row traces to its file and interchange
-- (ISA13). No patient data: the claim's patient is in fct_claims.
with

submissions as (

    select * from {{ ref('int_claim_submissions_ranked') }}

),

payer_classes as (

    select * from {{ ref('terminology__payer_classes') }}

),

submissions_described as (

    select
        submissions.*,
        coalesce(payer_classes.payer_class, 'unknown') as payer_class
    from submissions
    left join payer_classes
        on submissions.payer_id = payer_classes.payer_id

)

select
    -- ids
    claim_submission_id,
    claim_id,
    file_id,
    interchange_control_number,
    payer_id,
    payer_class,

    -- classification
    submission_sequence,
    submission_kind,
    is_original,
    claim_frequency_code,
    payer_responsibility_code,
    original_payer_claim_control_number,

    -- counts and amounts
    line_count,
    cast(charge_amount as decimal(18, 2)) as charges,

    -- dates
    submission_date
from submissions_described
