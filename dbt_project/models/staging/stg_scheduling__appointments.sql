with

source as (

    select * from {{ source('raw', 'appointments') }}

),

renamed as (

    select
        -- ids
        appointment_id,
        patient_id,
        provider_npi,
        location_id,
        rescheduled_to as rescheduled_to_appointment_id,
        encounter_id,

        -- codes
        visit_type,
        status as appointment_status,

        -- amounts
        duration_min as duration_minutes,

        -- dates
        booked_at,
        appointment_start as starts_at,
        cast(appointment_start as date) as appointment_date,

        -- lineage
        file_id,
        cast(line_number as integer) as source_line_number

    from source

)

select * from renamed
