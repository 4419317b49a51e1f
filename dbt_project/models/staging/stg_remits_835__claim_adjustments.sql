with

source as (

    select * from {{ source('raw', 'remit_claim_adjustments') }}

),

renamed as (

    select
        -- ids
        {{ composite_key(['file_id', 'segment_index', 'adjustment_position']) }}
            as remit_claim_adjustment_id,
        {{ composite_key(['file_id', 'claim_segment_index']) }} as remit_claim_id,
        {{ composite_key(['file_id', 'transaction_index']) }} as remittance_id,

        -- codes
        group_code as adjustment_group_code,
        reason_code as carc_code,

        -- amounts
        amount as adjustment_amount,
        cast(quantity as decimal(15, 3)) as adjustment_quantity,

        -- lineage
        file_id,
        interchange_control_number,
        group_control_number,
        transaction_control_number,
        transaction_index,
        segment_index,
        claim_segment_index,
        adjustment_position

    from source

)

select * from renamed
