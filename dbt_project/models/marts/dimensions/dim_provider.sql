-- Providers: every NPI that sees or bills patients (appointments' provider, claims'
-- rendering provider, the roster's PCP). Provider names and taxonomies are business data,
-- not PHI; the 837P carries them in loop 2310B (NM1*82 last and first name, PRV*PE
-- taxonomy). Name: "Last, First" as most claims give it; when the billing provider
-- rendered (no 2310B), the billing provider's name; else the NPI itself.
with

claims as (

    select * from {{ ref('stg_claims_837__claims') }}

),

appointments as (

    select * from {{ ref('stg_scheduling__appointments') }}

),

patients as (

    select * from {{ ref('stg_scheduling__patients') }}

),

visits as (

    select * from {{ ref('int_visits_coded') }}

),

provider_npis as (

    select provider_npi from appointments

    union

    select rendering_provider_npi as provider_npi
    from claims
    where rendering_provider_npi is not null

    union

    select pcp_npi as provider_npi
    from patients
    where pcp_npi is not null

),

rendering_names_ranked as (

    select
        rendering_provider_npi as provider_npi,
        case
            when rendering_provider_first_name is null then rendering_provider_last_name
            else rendering_provider_last_name || ', ' || rendering_provider_first_name
        end as provider_name,
        row_number() over (
            partition by rendering_provider_npi
            order by
                count(*) desc,
                rendering_provider_last_name asc,
                rendering_provider_first_name asc
        ) as name_rank
    from claims
    where rendering_provider_last_name is not null
    group by
        rendering_provider_npi,
        rendering_provider_last_name,
        rendering_provider_first_name

),

billing_names_ranked as (

    select
        rendering_provider_npi as provider_npi,
        billing_provider_name as provider_name,
        row_number() over (
            partition by rendering_provider_npi
            order by count(*) desc, billing_provider_name asc
        ) as name_rank
    from claims
    where rendering_provider_loop <> '2310B' and billing_provider_name is not null
    group by rendering_provider_npi, billing_provider_name

),

taxonomies_ranked as (

    select
        rendering_provider_npi as provider_npi,
        rendering_provider_taxonomy_code as taxonomy_code,
        row_number() over (
            partition by rendering_provider_npi
            order by count(*) desc, rendering_provider_taxonomy_code asc
        ) as taxonomy_rank
    from claims
    where rendering_provider_taxonomy_code is not null
    group by rendering_provider_npi, rendering_provider_taxonomy_code

),

visit_activity as (

    select
        rendering_provider_npi as provider_npi,
        min(service_date) as first_service_date,
        max(service_date) as last_service_date,
        count(*) as claim_count
    from visits
    group by rendering_provider_npi

),

appointment_activity as (

    select
        provider_npi,
        count(*) as appointment_count
    from appointments
    group by provider_npi

),

providers as (

    select
        provider_npis.provider_npi,
        taxonomies_ranked.taxonomy_code,
        visit_activity.first_service_date,
        visit_activity.last_service_date,
        coalesce(
            rendering_names_ranked.provider_name,
            billing_names_ranked.provider_name,
            provider_npis.provider_npi
        ) as provider_name,
        coalesce(visit_activity.claim_count, 0) as claim_count,
        coalesce(appointment_activity.appointment_count, 0) as appointment_count
    from provider_npis
    left join rendering_names_ranked
        on
            provider_npis.provider_npi = rendering_names_ranked.provider_npi
            and rendering_names_ranked.name_rank = 1
    left join billing_names_ranked
        on
            provider_npis.provider_npi = billing_names_ranked.provider_npi
            and billing_names_ranked.name_rank = 1
    left join taxonomies_ranked
        on
            provider_npis.provider_npi = taxonomies_ranked.provider_npi
            and taxonomies_ranked.taxonomy_rank = 1
    left join visit_activity
        on provider_npis.provider_npi = visit_activity.provider_npi
    left join appointment_activity
        on provider_npis.provider_npi = appointment_activity.provider_npi

)

select
    provider_npi,
    provider_name,
    taxonomy_code,
    first_service_date,
    last_service_date,
    claim_count,
    appointment_count
from providers
