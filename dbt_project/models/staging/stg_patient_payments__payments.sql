with

source as (

    select * from {{ source('raw', 'patient_payments') }}

),

renamed as (

    select
        -- ids
        payment_id as patient_payment_id,
        patient_id,
        encounter_id,

        -- codes
        method as payment_method,
        channel as payment_channel,

        -- descriptions
        reference as payment_reference,

        -- amounts
        amount as payment_amount,

        -- dates
        payment_date,
        posted_date,

        -- lineage
        file_id,
        cast(line_number as integer) as source_line_number

    from source

)

select * from renamed
