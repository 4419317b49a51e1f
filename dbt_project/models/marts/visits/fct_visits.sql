-- Visits: one row per billed encounter, coded from its original submission
-- (int_visits_coded states the rules). Attribution, our rules:
-- - patient: the appointment the claim was billed for (encounter_id = CLM01); for a claim
--   with no appointment (chronic care management is billed without a visit), the roster
--   patient or the patient of another claim with the same payer, member key and birth
--   date, when exactly one patient matches;
-- - location: the appointment's; else the location whose service facility NPI it is;
-- - age band at the visit: completed years on the date of service, bands 0-17, 18-39,
--   40-64, 65+ (as dim_patient).
with

visits as (

    select * from {{ ref('int_visits_coded') }}

),

appointments as (

    select * from {{ ref('stg_scheduling__appointments') }}

),

patients as (

    select * from {{ ref('stg_scheduling__patients') }}

),

locations as (

    select * from {{ ref('dim_location') }}

),

kept_appointments as (

    select
        encounter_id,
        appointment_id,
        patient_id,
        location_id
    from appointments
    where appointment_status = 'completed' and encounter_id is not null

),

member_patients as (

    select
        primary_payer_id as payer_id,
        primary_member_key as member_key,
        birth_date,
        patient_id
    from patients
    where primary_member_key is not null

    union

    select
        secondary_payer_id as payer_id,
        secondary_member_key as member_key,
        birth_date,
        patient_id
    from patients
    where secondary_member_key is not null

    union

    select
        visits.payer_id,
        visits.member_key,
        visits.patient_birth_date as birth_date,
        kept_appointments.patient_id
    from visits
    inner join kept_appointments
        on visits.claim_id = kept_appointments.encounter_id
    where visits.member_key is not null

),

member_patients_unique as (

    select
        payer_id,
        member_key,
        birth_date,
        min(patient_id) as patient_id
    from member_patients
    group by payer_id, member_key, birth_date
    having count(distinct patient_id) = 1

),

facility_locations as (

    select
        location_npi,
        min(location_id) as location_id
    from locations
    where location_npi is not null
    group by location_npi
    having count(*) = 1

),

visits_attributed as (

    select
        visits.*,
        kept_appointments.appointment_id,
        coalesce(kept_appointments.patient_id, member_patients_unique.patient_id) as patient_id,
        coalesce(kept_appointments.location_id, facility_locations.location_id) as location_id
    from visits
    left join kept_appointments
        on visits.claim_id = kept_appointments.encounter_id
    left join member_patients_unique
        on
            visits.payer_id = member_patients_unique.payer_id
            and visits.member_key = member_patients_unique.member_key
            and visits.patient_birth_date = member_patients_unique.birth_date
    left join facility_locations
        on visits.service_facility_npi = facility_locations.location_npi

),

visits_aged as (

    select
        visits_attributed.*,
        {{ age_in_years(
            'coalesce(patients.birth_date, visits_attributed.patient_birth_date)',
            'visits_attributed.service_date'
        ) }} as age_at_visit
    from visits_attributed
    left join patients
        on visits_attributed.patient_id = patients.patient_id

),

final as (

    select
        claim_id,
        appointment_id,
        patient_id,
        rendering_provider_npi as provider_npi,
        location_id,
        payer_id,
        service_date,
        cast({{ dbt.date_trunc('month', 'service_date') }} as date) as service_month,
        submission_date,
        case
            when age_at_visit < 18 then '0-17'
            when age_at_visit < 40 then '18-39'
            when age_at_visit < 65 then '40-64'
            when age_at_visit >= 65 then '65+'
        end as age_band_at_visit,
        patient_status,
        visit_family,
        has_problem_and_preventive,
        em_code,
        em_level,
        has_modifier_25,
        has_g2211,
        cast(line_count as integer) as line_count,
        charge_amount as charges
    from visits_aged

)

select
    claim_id,
    appointment_id,
    patient_id,
    provider_npi,
    location_id,
    payer_id,
    service_date,
    service_month,
    submission_date,
    age_band_at_visit,
    patient_status,
    visit_family,
    has_problem_and_preventive,
    em_code,
    em_level,
    has_modifier_25,
    has_g2211,
    line_count,
    charges
from final
