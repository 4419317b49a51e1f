with

source as (

    select * from {{ source('raw', 'claim_diagnoses') }}

),

renamed as (

    select
        -- ids
        {{ composite_key(['file_id', 'claim_segment_index', 'position']) }}
            as claim_diagnosis_id,
        {{ composite_key(['file_id', 'claim_segment_index']) }} as claim_submission_id,

        -- codes
        qualifier as diagnosis_code_qualifier,
        code as diagnosis_code,
        is_principal,

        -- amounts
        cast(position as integer) as diagnosis_position,
        cast(pointer as integer) as diagnosis_pointer,

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
