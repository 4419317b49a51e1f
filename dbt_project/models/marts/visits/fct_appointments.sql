-- Appointments and the no-show rate's terms (kpis.md: no-show appointments / scheduled
-- appointments that were due). Our reading: an appointment was due when its slot came
-- with the booking still standing, i.e. it was kept (completed) or missed (no_show);
-- cancelled and rescheduled bookings were not due, and scheduled ones are still to come.
-- The payer is the patient's primary payer on the roster extract (roster-time
-- attribution, not the coverage on the day of the appointment), its class dim_payer's.
with

appointments as (

    select * from {{ ref('stg_scheduling__appointments') }}

),

patients as (

    select * from {{ ref('stg_scheduling__patients') }}

),

visits as (

    select * from {{ ref('int_visits_coded') }}

),

calendar as (

    select * from {{ ref('dim_date') }}

),

payers as (

    select * from {{ ref('dim_payer') }}

),

appointments_described as (

    select
        appointments.appointment_id,
        appointments.patient_id,
        appointments.provider_npi,
        appointments.location_id,
        patients.primary_payer_id as payer_id,
        payers.payer_class,
        case
            when appointments.appointment_status = 'completed' then appointments.encounter_id
        end as encounter_id,
        appointments.rescheduled_to_appointment_id,
        appointments.visit_type,
        appointments.appointment_status,
        appointments.appointment_status in ('completed', 'no_show') as is_due,
        appointments.appointment_status = 'completed' as is_completed,
        appointments.appointment_status = 'no_show' as is_no_show,
        appointments.appointment_status = 'cancelled' as is_cancelled,
        appointments.appointment_status = 'rescheduled' as is_rescheduled,
        appointments.appointment_status = 'completed'
        and visits.claim_id is not null as is_billed,
        appointments.booked_at,
        appointments.starts_at,
        appointments.appointment_date,
        calendar.month_start as appointment_month,
        calendar.iso_weekday,
        cast(
            {{ dbt.datediff(
                'cast(appointments.booked_at as date)', 'appointments.appointment_date', 'day'
            ) }}
            as integer
        ) as lead_time_days,
        appointments.duration_minutes
    from appointments
    left join patients
        on appointments.patient_id = patients.patient_id
    left join visits
        on appointments.encounter_id = visits.claim_id
    left join calendar
        on appointments.appointment_date = calendar.date_day
    left join payers
        on patients.primary_payer_id = payers.payer_id

)

select
    appointment_id,
    patient_id,
    provider_npi,
    location_id,
    payer_id,
    payer_class,
    encounter_id,
    rescheduled_to_appointment_id,
    visit_type,
    appointment_status,
    is_due,
    is_completed,
    is_no_show,
    is_cancelled,
    is_rescheduled,
    is_billed,
    booked_at,
    starts_at,
    appointment_date,
    appointment_month,
    iso_weekday,
    lead_time_days,
    duration_minutes
from appointments_described
