with

source as (

    select * from {{ source('raw', 'remit_payments') }}

),

renamed as (

    select
        -- ids
        {{ composite_key(['file_id', 'transaction_index']) }} as remittance_id,
        payer_id,
        trace_number,
        trace_originator_id,
        payee_npi,
        payee_tax_id,
        payee_id,
        sender_id,
        receiver_id,

        -- codes
        version as x12_version,
        usage_indicator,
        handling_code,
        credit_debit_flag,
        payment_method as payment_method_code,
        payee_id_qualifier,

        -- descriptions
        payer_name,
        payee_name,

        -- amounts
        payment_amount,
        claim_count,

        -- dates
        payment_date,
        production_date,

        -- lineage
        file_id,
        interchange_control_number,
        group_control_number,
        transaction_control_number,
        transaction_index,
        segment_index

    from source

)

select * from renamed
