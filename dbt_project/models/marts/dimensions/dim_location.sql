-- Practice locations: the ids the scheduling extracts use (appointments and patients'
-- home locations). The extracts carry no names, so each location takes the 837P service
-- facility (loop 2310C name and NPI) of the claims billed for its kept appointments
-- (appointment encounter_id = CLM01), the pair seen most often (ties: by name, then NPI).
with

appointments as (

    select * from {{ ref('stg_scheduling__appointments') }}

),

patients as (

    select * from {{ ref('stg_scheduling__patients') }}

),

claims as (

    select * from {{ ref('stg_claims_837__claims') }}

),

location_ids as (

    select location_id from appointments

    union

    select home_location_id as location_id from patients

),

facilities_ranked as (

    select
        appointments.location_id,
        claims.service_facility_name,
        claims.service_facility_npi,
        row_number() over (
            partition by appointments.location_id
            order by
                count(*) desc,
                claims.service_facility_name asc,
                claims.service_facility_npi asc
        ) as facility_rank
    from appointments
    inner join claims
        on appointments.encounter_id = claims.claim_id
    where claims.service_facility_name is not null or claims.service_facility_npi is not null
    group by
        appointments.location_id,
        claims.service_facility_name,
        claims.service_facility_npi

),

appointment_dates as (

    select
        location_id,
        min(appointment_date) as first_appointment_date,
        max(appointment_date) as last_appointment_date,
        count(*) as appointment_count
    from appointments
    group by location_id

),

locations as (

    select
        location_ids.location_id,
        facilities_ranked.service_facility_npi as location_npi,
        appointment_dates.first_appointment_date,
        appointment_dates.last_appointment_date,
        coalesce(facilities_ranked.service_facility_name, location_ids.location_id)
            as location_name,
        coalesce(appointment_dates.appointment_count, 0) as appointment_count
    from location_ids
    left join facilities_ranked
        on
            location_ids.location_id = facilities_ranked.location_id
            and facilities_ranked.facility_rank = 1
    left join appointment_dates
        on location_ids.location_id = appointment_dates.location_id

)

select
    location_id,
    location_name,
    location_npi,
    first_appointment_date,
    last_appointment_date,
    appointment_count
from locations
