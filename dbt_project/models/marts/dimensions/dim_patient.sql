-- Minimum necessary (HIPAA privacy rule, 45 CFR 164.502(b)): no names, member ids or
-- birth dates; the age band on the data's as-of date (int_as_of_date_derived) and the
-- ZIP code's first three digits instead. Age bands are ours: 0-17, 18-39, 40-64, 65+
-- (65 = Medicare age).
-- Patients seen in appointments or payments but missing from the roster get a row with
-- unknown attributes, so every fact's patient_id finds its patient.
with

patients as (

    select * from {{ ref('stg_scheduling__patients') }}

),

appointments as (

    select * from {{ ref('stg_scheduling__appointments') }}

),

patient_payments as (

    select * from {{ ref('stg_patient_payments__payments') }}

),

as_of as (

    select * from {{ ref('int_as_of_date_derived') }}

),

patients_seen as (

    select patient_id from appointments

    union

    select patient_id from patient_payments

),

patients_off_roster as (

    select patients_seen.patient_id
    from patients_seen
    left join patients
        on patients_seen.patient_id = patients.patient_id
    where patients.patient_id is null

),

roster_patients as (

    select
        patients.patient_id,
        true as is_on_roster,
        patients.sex_code,
        {{ age_band('patients.birth_date', 'as_of.as_of_date') }} as age_band,
        substring(patients.zip_code, 1, 3) as zip3,
        patients.home_location_id,
        patients.pcp_npi,
        patients.primary_payer_id,
        patients.secondary_payer_id,
        patients.registered_date
    from patients
    cross join as_of

),

unlisted_patients as (

    select
        patient_id,
        false as is_on_roster,
        cast(null as {{ dbt.type_string() }}) as sex_code,
        cast(null as {{ dbt.type_string() }}) as age_band,
        cast(null as {{ dbt.type_string() }}) as zip3,
        cast(null as {{ dbt.type_string() }}) as home_location_id,
        cast(null as {{ dbt.type_string() }}) as pcp_npi,
        cast(null as {{ dbt.type_string() }}) as primary_payer_id,
        cast(null as {{ dbt.type_string() }}) as secondary_payer_id,
        cast(null as date) as registered_date
    from patients_off_roster

),

all_patients as (

    select * from roster_patients

    union all

    select * from unlisted_patients

)

select
    patient_id,
    is_on_roster,
    sex_code,
    age_band,
    zip3,
    home_location_id,
    pcp_npi,
    primary_payer_id,
    secondary_payer_id,
    registered_date
from all_patients
