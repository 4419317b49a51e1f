-- Patient names (NM1*QC03-05) and the remark list are left in raw: the names are PHI
-- that nothing downstream needs, the remarks are rows of stg_remits_835__remarks. The
-- member id (NM1*QC09) becomes a pseudonymous key that joins to the 837P and the roster.
with

source as (

    select * from {{ source('raw', 'remit_claims') }}

),

renamed as (

    select
        -- ids
        {{ composite_key(['file_id', 'segment_index']) }} as remit_claim_id,
        {{ composite_key(['file_id', 'transaction_index']) }} as remittance_id,
        patient_control_number as claim_id,
        payer_claim_control_number,
        {{ pseudonymise('patient_id') }} as member_key,
        rendering_npi as rendering_provider_npi,
        rendering_provider_id,

        -- codes
        claim_status_code,
        claim_filing_indicator as claim_filing_indicator_code,
        facility_type_code as place_of_service_code,
        claim_frequency_code,
        patient_id_qualifier as member_id_qualifier,
        rendering_provider_id_qualifier,

        -- amounts
        charge_amount,
        paid_amount,
        patient_responsibility_amount,

        -- dates
        statement_from as statement_from_date,
        statement_to as statement_to_date,
        received_date as payer_received_date,

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
