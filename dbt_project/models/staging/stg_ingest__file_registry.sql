with

source as (

    select * from {{ source('raw', 'file_registry') }}

),

renamed as (

    select
        -- ids
        file_id,
        duplicate_of as duplicate_of_file_id,
        sha256 as file_sha256,

        -- codes
        kind as file_kind,
        status as file_status,
        rule as rejection_rule,

        -- descriptions
        file_name,
        reason as rejection_reason,
        moved_to as stored_path,
        cast(rows_by_table as {{ dbt.type_string() }}) as rows_by_table_json,

        -- amounts
        size_bytes,
        row_count,
        segment_index as rejected_segment_index,
        line as rejected_line_number,
        "column" as rejected_column_number,

        -- dates
        landed_at,
        started_at as load_started_at,
        finished_at as load_finished_at

    from source

)

select * from renamed
