with

source as (

    select * from {{ source('raw', 'remit_remarks') }}

),

renamed as (

    select
        -- ids
        {{ composite_key(['file_id', 'segment_index', 'element_position']) }}
            as remit_remark_id,
        {{ composite_key(['file_id', 'claim_segment_index']) }} as remit_claim_id,
        case
            when line_segment_index is not null
                then {{ composite_key(['file_id', 'line_segment_index']) }}
        end as remit_line_id,
        {{ composite_key(['file_id', 'transaction_index']) }} as remittance_id,

        -- codes
        level as remark_level,
        source_segment,
        code_list_qualifier,
        remark_code,

        -- lineage
        file_id,
        interchange_control_number,
        group_control_number,
        transaction_control_number,
        transaction_index,
        segment_index,
        claim_segment_index,
        line_segment_index,
        element_position

    from source

)

select * from renamed
