-- Our rules for the coding of a visit (one billed encounter, CLM01):
-- 1. The visit is coded from the claim's original submission (int_claim_submissions_ranked:
--    the earliest primary, SBR01 = P, submission by BHT04 date, ties by file, then CLM
--    position) and that submission's service lines; corrections (CLM05-3 = 7), resends,
--    re-bills and secondary claims do not change it.
-- 2. One visit family, by precedence over the service catalogue's families (kpis.md
--    "Family-medicine service families"): wellness (G0402, G0438, G0439) > preventive
--    (99381-99397) > transitional_care (99495, 99496) > chronic_care (99490, 99439, 99491,
--    99487, 99489) > problem_em (office E/M 99202-99215) > other.
-- 3. A preventive or wellness service and a problem E/M on the same claim (every line of
--    a claim has the same date of service here) is a same-day preventive + problem visit,
--    where the problem E/M should carry modifier 25 (kpis.md; CPT modifier 25).
-- 4. One E/M per visit: when a claim carries more than one office E/M, the highest code.
with

claims as (

    select * from {{ ref('stg_claims_837__claims') }}

),

submissions_ranked as (

    select * from {{ ref('int_claim_submissions_ranked') }}

),

service_lines as (

    select * from {{ ref('stg_claims_837__service_lines') }}

),

service_catalogue as (

    select * from {{ ref('terminology__service_catalogue') }}

),

original_submissions as (

    select claims.*
    from claims
    inner join submissions_ranked
        on claims.claim_submission_id = submissions_ranked.claim_submission_id
    where submissions_ranked.is_original

),

original_lines_classified as (

    select
        service_lines.claim_submission_id,
        service_lines.procedure_code,
        service_lines.service_from_date,
        service_catalogue.new_or_established,
        coalesce(service_catalogue.service_family, 'other') as service_family,
        coalesce(service_catalogue.is_office_em, false) as is_office_em,
        coalesce(
            '25' in (
                service_lines.modifier_1,
                service_lines.modifier_2,
                service_lines.modifier_3,
                service_lines.modifier_4
            ),
            false
        ) as has_modifier_25
    from service_lines
    inner join original_submissions
        on service_lines.claim_submission_id = original_submissions.claim_submission_id
    left join service_catalogue
        on service_lines.procedure_code = service_catalogue.procedure_code

),

visit_codes as (

    select
        claim_submission_id,
        count(*) as line_count,
        min(service_from_date) as service_date,
        max(case when is_office_em then procedure_code end) as em_code,
        max(case when service_family = 'preventive' then new_or_established end)
            as preventive_patient_status,
        {{ dbt.bool_or("service_family = 'wellness'") }} as has_wellness,
        {{ dbt.bool_or("service_family = 'preventive'") }} as has_preventive,
        {{ dbt.bool_or("service_family = 'transitional_care'") }} as has_transitional_care,
        {{ dbt.bool_or("service_family = 'chronic_care'") }} as has_chronic_care,
        {{ dbt.bool_or('has_modifier_25') }} as has_modifier_25,
        {{ dbt.bool_or("procedure_code = 'G2211'") }} as has_g2211
    from original_lines_classified
    group by claim_submission_id

),

visits_coded as (

    select
        original_submissions.claim_id,
        original_submissions.claim_submission_id,
        original_submissions.payer_id,
        original_submissions.member_key,
        original_submissions.rendering_provider_npi,
        original_submissions.service_facility_npi,
        original_submissions.patient_birth_date,
        original_submissions.submission_date,
        visit_codes.service_date,
        visit_codes.em_code,
        em_services.em_level,
        em_services.new_or_established as em_patient_status,
        visit_codes.has_modifier_25,
        visit_codes.has_g2211,
        visit_codes.line_count,
        original_submissions.charge_amount,
        coalesce(visit_codes.preventive_patient_status, em_services.new_or_established)
            as patient_status,
        case
            when visit_codes.has_wellness then 'wellness'
            when visit_codes.has_preventive then 'preventive'
            when visit_codes.has_transitional_care then 'transitional_care'
            when visit_codes.has_chronic_care then 'chronic_care'
            when visit_codes.em_code is not null then 'problem_em'
            else 'other'
        end as visit_family,
        (visit_codes.has_wellness or visit_codes.has_preventive)
        and visit_codes.em_code is not null as has_problem_and_preventive
    from original_submissions
    inner join visit_codes
        on original_submissions.claim_submission_id = visit_codes.claim_submission_id
    left join service_catalogue as em_services
        on visit_codes.em_code = em_services.procedure_code

)

select * from visits_coded
