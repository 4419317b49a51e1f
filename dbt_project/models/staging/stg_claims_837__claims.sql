-- Subscriber and patient names, and the subscriber's birth date and sex, are left in raw
-- (PHI that nothing downstream needs). The member id becomes a pseudonymous key that
-- joins to the 835 and the patient roster. REF*EA, the medical record number, is the
-- practice's patient_id: it names the patient even when the member id is ambiguous.
with

source as (

    select * from {{ source('raw', 'claims') }}

),

renamed as (

    select
        -- ids
        {{ composite_key(['file_id', 'segment_index']) }} as claim_submission_id,
        patient_control_number as claim_id,
        payer_claim_control_number as original_payer_claim_control_number,
        medical_record_number as patient_id,
        payer_id,
        {{ pseudonymise('subscriber_member_id') }} as member_key,
        group_number as insurance_group_number,
        billing_provider_npi,
        billing_provider_tax_id,
        rendering_provider_npi,
        service_facility_npi,

        -- codes
        place_of_service as place_of_service_code,
        facility_code_qualifier,
        claim_frequency_code,
        payer_responsibility as payer_responsibility_code,
        claim_filing_indicator as claim_filing_indicator_code,
        patient_relationship as patient_relationship_code,
        patient_sex as patient_sex_code,
        provider_signature as provider_signature_indicator,
        assignment_code as assignment_participation_code,
        benefits_assignment as benefits_assignment_indicator,
        release_of_information as release_of_information_code,
        billing_provider_tax_id_qualifier,
        rendering_provider_source as rendering_provider_loop,
        rendering_provider_taxonomy as rendering_provider_taxonomy_code,

        -- descriptions
        billing_provider_name,
        rendering_provider_last_name,
        rendering_provider_first_name,
        service_facility_name,
        payer_name,

        -- amounts
        total_charge_amount as charge_amount,
        line_count,

        -- dates
        submission_date,
        patient_birth_date,

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
