-- Every 835 service line (SVC) matched to the line of the claim's original 837P it pays.
-- Matching rule (X12 835 TR3, loop 2110): REF*6R returns the 837P line item control
-- number (REF*6R of loop 2400), so it is the key; a payer that drops it is matched on
-- procedure code, modifiers and service date, the nth such remit line of an adjudication
-- to the nth such claim line.
with

remit_lines as (

    select * from {{ ref('stg_remits_835__service_lines') }}

),

remit_claims as (

    select * from {{ ref('int_remit_claims_classified') }}

),

submissions as (

    select * from {{ ref('int_claim_submissions_ranked') }}

),

submission_lines as (

    select * from {{ ref('stg_claims_837__service_lines') }}

),

line_adjustments as (

    select * from {{ ref('int_remit_adjustments_classified') }}

),

claim_lines as (

    select
        submissions.claim_id,
        submission_lines.line_number,
        submission_lines.line_item_control_number,
        submission_lines.procedure_code,
        submission_lines.service_from_date,
        concat_ws(
            ':',
            submission_lines.modifier_1,
            submission_lines.modifier_2,
            submission_lines.modifier_3,
            submission_lines.modifier_4
        ) as modifiers
    from submission_lines
    inner join submissions
        on submission_lines.claim_submission_id = submissions.claim_submission_id
    where submissions.is_original

),

remit as (

    select
        remit_lines.remit_line_id,
        remit_lines.remit_claim_id,
        remit_claims.claim_id,
        remit_lines.line_item_control_number,
        remit_lines.service_from_date,
        remit_lines.segment_index,
        coalesce(remit_lines.submitted_procedure_code, remit_lines.procedure_code)
            as procedure_code,
        concat_ws(
            ':',
            remit_lines.modifier_1,
            remit_lines.modifier_2,
            remit_lines.modifier_3,
            remit_lines.modifier_4
        ) as modifiers
    from remit_lines
    inner join remit_claims
        on remit_lines.remit_claim_id = remit_claims.remit_claim_id

),

matched_by_control_number as (

    select
        remit.remit_line_id,
        claim_lines.line_number,
        'line_control_number' as match_method
    from remit
    inner join claim_lines
        on
            remit.claim_id = claim_lines.claim_id
            and remit.line_item_control_number = claim_lines.line_item_control_number

),

unmatched as (

    select
        remit.*,
        row_number() over (
            partition by
                remit.remit_claim_id,
                remit.procedure_code,
                remit.modifiers,
                remit.service_from_date
            order by remit.segment_index
        ) as occurrence
    from remit
    where
        remit.remit_line_id not in (
            select matched_by_control_number.remit_line_id from matched_by_control_number
        )

),

claim_line_occurrences as (

    select
        *,
        row_number() over (
            partition by claim_id, procedure_code, modifiers, service_from_date
            order by line_number
        ) as occurrence
    from claim_lines

),

matched_by_content as (

    select
        unmatched.remit_line_id,
        claim_line_occurrences.line_number,
        'code_modifiers_date' as match_method
    from unmatched
    inner join claim_line_occurrences
        on
            unmatched.claim_id = claim_line_occurrences.claim_id
            and unmatched.procedure_code = claim_line_occurrences.procedure_code
            and unmatched.modifiers = claim_line_occurrences.modifiers
            and unmatched.service_from_date = claim_line_occurrences.service_from_date
            and unmatched.occurrence = claim_line_occurrences.occurrence

),

matches as (

    select * from matched_by_control_number
    union all
    select * from matched_by_content

),

line_adjustment_totals as (

    select
        remit_line_id,
        {{ cas_amount('contractual') }} as contractual_amount,
        {{ cas_amount('patient_responsibility') }} as patient_responsibility_amount,
        {{ cas_amount('denial') }} as denied_amount,
        bool_or(is_denial) as is_denied
    from line_adjustments
    where remit_line_id is not null
    group by remit_line_id

)

select
    remit_lines.remit_line_id,
    remit_lines.remit_claim_id,
    remit_claims.claim_id,
    matches.line_number,
    remit_claims.adjudication_kind,
    remit_claims.adjudication_sequence,
    remit_claims.payment_date,
    remit_lines.charge_amount,
    remit_lines.paid_amount,
    coalesce(matches.match_method, 'unmatched') as match_method,
    coalesce(remit_lines.allowed_amount, 0) as allowed_amount,
    coalesce(line_adjustment_totals.contractual_amount, 0) as contractual_amount,
    coalesce(line_adjustment_totals.patient_responsibility_amount, 0)
        as patient_responsibility_amount,
    coalesce(line_adjustment_totals.denied_amount, 0) as denied_amount,
    coalesce(line_adjustment_totals.is_denied, false) as is_denied
from remit_lines
inner join remit_claims
    on remit_lines.remit_claim_id = remit_claims.remit_claim_id
left join matches
    on remit_lines.remit_line_id = matches.remit_line_id
left join line_adjustment_totals
    on remit_lines.remit_line_id = line_adjustment_totals.remit_line_id
