-- One row per service line of a claim's original 837P, with what every 835 adjudication
-- of that line came to (lines matched by REF*6R, int_remit_lines_matched). Per claim the
-- lines sum to fct_claims' charges, allowed, payer paid, contractual and patient
-- responsibility (a singular test).
with

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

),

submissions as (

    select * from {{ ref('int_claim_submissions_ranked') }}

),

submission_lines as (

    select * from {{ ref('stg_claims_837__service_lines') }}

),

remit_lines as (

    select * from {{ ref('int_remit_lines_matched') }}

),

services as (

    select * from {{ ref('terminology__service_catalogue') }}

),

original_lines as (

    select
        submission_lines.*,
        submissions.claim_id
    from submission_lines
    inner join submissions
        on submission_lines.claim_submission_id = submissions.claim_submission_id
    where submissions.is_original

),

line_money as (

    select
        remit_lines.claim_id,
        remit_lines.line_number,
        sum(remit_lines.paid_amount) as payer_paid,
        sum(
            case
                when
                    remit_lines.adjudication_kind <> 'secondary'
                    then remit_lines.paid_amount
                else 0
            end
        )
            as primary_paid,
        sum(
            case
                when remit_lines.adjudication_kind = 'secondary' then remit_lines.paid_amount else 0
            end
        )
            as secondary_paid,
        sum(remit_lines.allowed_amount) as allowed_amount,
        sum(remit_lines.contractual_amount) as contractual_amount,
        sum(
            case
                when remit_lines.adjudication_kind <> 'secondary'
                    then remit_lines.patient_responsibility_amount
                else 0
            end
        ) as primary_patient_responsibility,
        bool_or(
            remit_lines.is_denied
            and remit_lines.adjudication_sequence = claims.first_adjudication_sequence
        ) as is_denied_first_pass,
        sum(
            case
                when remit_lines.adjudication_sequence = claims.first_adjudication_sequence
                    then remit_lines.denied_amount
                else 0
            end
        ) as denied_amount,
        count(*) as adjudication_line_count
    from remit_lines
    inner join claims
        on remit_lines.claim_id = claims.claim_id
    where remit_lines.line_number is not null
    group by remit_lines.claim_id, remit_lines.line_number

)

select
    -- ids
    {{ composite_key(['original_lines.claim_id', 'original_lines.line_number']) }} as claim_line_id,
    original_lines.claim_id,
    cast(original_lines.line_number as integer) as line_number,
    original_lines.line_item_control_number,
    claims.patient_id,
    claims.provider_npi,
    claims.location_id,
    claims.payer_id,

    -- codes
    original_lines.procedure_code,
    original_lines.modifier_1,
    original_lines.modifier_2,
    original_lines.modifier_3,
    original_lines.modifier_4,
    coalesce(services.service_family, 'other') as service_family,
    coalesce(line_money.is_denied_first_pass, false) as is_denied_first_pass,

    -- amounts
    cast(original_lines.units as decimal(15, 3)) as units,
    cast(original_lines.charge_amount as decimal(18, 2)) as charges,
    cast(coalesce(line_money.allowed_amount, 0) as decimal(18, 2)) as allowed_amount,
    cast(coalesce(line_money.primary_paid, 0) as decimal(18, 2)) as primary_paid,
    cast(coalesce(line_money.secondary_paid, 0) as decimal(18, 2)) as secondary_paid,
    cast(coalesce(line_money.payer_paid, 0) as decimal(18, 2)) as payer_paid,
    cast(coalesce(line_money.contractual_amount, 0) as decimal(18, 2)) as contractual_amount,
    cast(coalesce(line_money.denied_amount, 0) as decimal(18, 2)) as denied_amount,
    cast(
        coalesce(line_money.primary_patient_responsibility, 0)
        - coalesce(line_money.secondary_paid, 0)
        as decimal(18, 2)
    ) as patient_responsibility,
    coalesce(line_money.adjudication_line_count, 0) as adjudication_line_count,

    -- dates
    original_lines.service_from_date as service_date
from original_lines
inner join claims
    on original_lines.claim_id = claims.claim_id
left join line_money
    on
        original_lines.claim_id = line_money.claim_id
        and original_lines.line_number = line_money.line_number
left join services
    on original_lines.procedure_code = services.procedure_code
