-- Visits: one row per billed encounter, coded from its original submission
-- (int_visits_coded states the rules). Patient, location and payer class are the claim's
-- (int_claims_adjudicated: the appointment's, else for a service without a visit the
-- roster match and the service facility); the age band is on the date of service
-- (macro age_band, as dim_patient).
with

visits as (

    select * from {{ ref('int_visits_coded') }}

),

appointments as (

    select * from {{ ref('stg_scheduling__appointments') }}

),

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

),

patients as (

    select * from {{ ref('stg_scheduling__patients') }}

),

kept_appointments as (

    select
        encounter_id,
        min(appointment_id) as appointment_id
    from appointments
    where appointment_status = 'completed' and encounter_id is not null
    group by encounter_id

),

visits_attributed as (

    select
        visits.*,
        kept_appointments.appointment_id,
        claims.patient_id,
        claims.location_id,
        claims.payer_class,
        {{ age_band(
            'coalesce(patients.birth_date, visits.patient_birth_date)',
            'visits.service_date'
        ) }} as age_band_at_visit
    from visits
    inner join claims
        on visits.claim_id = claims.claim_id
    left join kept_appointments
        on visits.claim_id = kept_appointments.encounter_id
    left join patients
        on claims.patient_id = patients.patient_id

),

final as (

    select
        claim_id,
        appointment_id,
        patient_id,
        rendering_provider_npi as provider_npi,
        location_id,
        payer_id,
        payer_class,
        service_date,
        cast({{ dbt.date_trunc('month', 'service_date') }} as date) as service_month,
        submission_date,
        age_band_at_visit,
        patient_status,
        visit_family,
        has_problem_and_preventive,
        em_code,
        em_level,
        has_modifier_25,
        has_g2211,
        cast(line_count as integer) as line_count,
        charge_amount as charges
    from visits_attributed

)

select
    claim_id,
    appointment_id,
    patient_id,
    provider_npi,
    location_id,
    payer_id,
    payer_class,
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
