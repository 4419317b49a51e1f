with

source as (

    select * from {{ source('raw', 'remit_service_lines') }}

),

renamed as (

    select
        -- ids
        {{ composite_key(['file_id', 'segment_index']) }} as remit_line_id,
        {{ composite_key(['file_id', 'claim_segment_index']) }} as remit_claim_id,
        {{ composite_key(['file_id', 'transaction_index']) }} as remittance_id,
        line_item_control_number,

        -- codes
        procedure_qualifier as procedure_code_qualifier,
        procedure_code,
        modifier_1,
        modifier_2,
        modifier_3,
        modifier_4,
        submitted_procedure as submitted_procedure_code,
        revenue_code,
        procedure_description,

        -- amounts
        charge_amount,
        paid_amount,
        allowed_amount,
        cast(units as decimal(15, 3)) as units,
        cast(submitted_units as decimal(15, 3)) as submitted_units,

        -- dates
        service_date_from as service_from_date,
        service_date_to as service_to_date,

        -- lineage
        file_id,
        interchange_control_number,
        group_control_number,
        transaction_control_number,
        transaction_index,
        segment_index,
        claim_segment_index

    from source

)

select * from renamed
