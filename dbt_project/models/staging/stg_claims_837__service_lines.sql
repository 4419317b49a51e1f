with

source as (

    select * from {{ source('raw', 'claim_service_lines') }}

),

renamed as (

    select
        -- ids
        {{ composite_key(['file_id', 'segment_index']) }} as claim_line_id,
        {{ composite_key(['file_id', 'claim_segment_index']) }} as claim_submission_id,
        line_item_control_number,
        cast(line_number as integer) as line_number,

        -- codes
        procedure_qualifier as procedure_code_qualifier,
        procedure_code,
        modifier_1,
        modifier_2,
        modifier_3,
        modifier_4,
        procedure_description,
        unit_basis as unit_basis_code,
        place_of_service as place_of_service_code,
        emergency_indicator,
        cast(diagnosis_pointer_1 as integer) as diagnosis_pointer_1,
        cast(diagnosis_pointer_2 as integer) as diagnosis_pointer_2,
        cast(diagnosis_pointer_3 as integer) as diagnosis_pointer_3,
        cast(diagnosis_pointer_4 as integer) as diagnosis_pointer_4,

        -- amounts
        charge_amount,
        cast(units as decimal(15, 3)) as units,

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
        claim_segment_index,
        lx_segment_index

    from source

)

select * from renamed
