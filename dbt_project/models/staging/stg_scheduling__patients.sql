-- Minimum necessary (HIPAA): names, street address, city, state and phone stay in raw;
-- member ids become pseudonymous keys that join to the claims without revealing the id.
with

source as (

    select * from {{ source('raw', 'patients') }}

),

renamed as (

    select
        -- ids
        patient_id,
        home_location_id,
        pcp_npi,
        primary_payer_id,
        {{ pseudonymise('primary_member_id') }} as primary_member_key,
        secondary_payer_id,
        {{ pseudonymise('secondary_member_id') }} as secondary_member_key,

        -- codes
        sex as sex_code,
        zip as zip_code,

        -- dates
        dob as birth_date,
        created_date as registered_date,

        -- lineage
        file_id,
        cast(line_number as integer) as source_line_number

    from source

)

select * from renamed
