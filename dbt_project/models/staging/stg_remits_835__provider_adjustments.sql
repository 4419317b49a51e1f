with

source as (

    select * from {{ source('raw', 'remit_provider_adjustments') }}

),

renamed as (

    select
        -- ids
        {{ composite_key(['file_id', 'segment_index', 'adjustment_position']) }}
            as provider_adjustment_id,
        {{ composite_key(['file_id', 'transaction_index']) }} as remittance_id,
        provider_id as payee_provider_id,
        reference_id as adjustment_reference_id,

        -- codes
        reason_code as adjustment_reason_code,

        -- amounts
        amount as adjustment_amount,

        -- dates
        fiscal_period_date,

        -- lineage
        file_id,
        interchange_control_number,
        group_control_number,
        transaction_control_number,
        transaction_index,
        segment_index,
        adjustment_position

    from source

)

select * from renamed
