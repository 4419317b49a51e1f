-- Services: the family-medicine service catalogue (seed terminology__service_catalogue:
-- code numbers from CPT/HCPCS, families from kpis.md "Family-medicine service families")
-- plus every procedure code the claims or remittances use that the catalogue lacks, as
-- family 'other', so every coded line finds its service.
with

service_catalogue as (

    select * from {{ ref('terminology__service_catalogue') }}

),

claim_lines as (

    select * from {{ ref('stg_claims_837__service_lines') }}

),

remit_lines as (

    select * from {{ ref('stg_remits_835__service_lines') }}

),

codes_seen as (

    select procedure_code from claim_lines

    union

    select procedure_code
    from remit_lines
    where procedure_code is not null

    union

    select submitted_procedure_code as procedure_code
    from remit_lines
    where submitted_procedure_code is not null

),

codes_not_listed as (

    select codes_seen.procedure_code
    from codes_seen
    left join service_catalogue
        on codes_seen.procedure_code = service_catalogue.procedure_code
    where service_catalogue.procedure_code is null

),

listed_services as (

    select
        procedure_code,
        description,
        service_family,
        is_office_em,
        em_level,
        new_or_established as patient_status,
        preventive_age_band,
        preventive_age_min,
        preventive_age_max,
        is_add_on,
        true as is_in_catalogue
    from service_catalogue

),

unlisted_services as (

    select
        procedure_code,
        'Not in the service catalogue' as description,
        'other' as service_family,
        false as is_office_em,
        cast(null as integer) as em_level,
        cast(null as {{ dbt.type_string() }}) as patient_status,
        cast(null as {{ dbt.type_string() }}) as preventive_age_band,
        cast(null as integer) as preventive_age_min,
        cast(null as integer) as preventive_age_max,
        false as is_add_on,
        false as is_in_catalogue
    from codes_not_listed

),

all_services as (

    select * from listed_services

    union all

    select * from unlisted_services

)

select
    procedure_code,
    description,
    service_family,
    is_office_em,
    em_level,
    patient_status,
    preventive_age_band,
    preventive_age_min,
    preventive_age_max,
    is_add_on,
    is_in_catalogue
from all_services
