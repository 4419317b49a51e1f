-- Payers: the practice's payer list (seed terminology__payer_classes) plus any payer id
-- the claims, remittances or roster use that the list lacks, as payer class 'unknown'
-- with the name those files give it most often, so every fact's payer_id finds its payer.
-- Self-pay has no payer row: a null payer_id means self-pay.
with

payer_classes as (

    select * from {{ ref('terminology__payer_classes') }}

),

claims as (

    select * from {{ ref('stg_claims_837__claims') }}

),

remittances as (

    select * from {{ ref('stg_remits_835__payments') }}

),

patients as (

    select * from {{ ref('stg_scheduling__patients') }}

),

payers_seen as (

    select
        payer_id,
        payer_name,
        claim_filing_indicator_code
    from claims

    union all

    select
        payer_id,
        payer_name,
        cast(null as {{ dbt.type_string() }}) as claim_filing_indicator_code
    from remittances

    union all

    select
        primary_payer_id as payer_id,
        cast(null as {{ dbt.type_string() }}) as payer_name,
        cast(null as {{ dbt.type_string() }}) as claim_filing_indicator_code
    from patients
    where primary_payer_id is not null

    union all

    select
        secondary_payer_id as payer_id,
        cast(null as {{ dbt.type_string() }}) as payer_name,
        cast(null as {{ dbt.type_string() }}) as claim_filing_indicator_code
    from patients
    where secondary_payer_id is not null

),

payers_not_listed as (

    select payers_seen.*
    from payers_seen
    left join payer_classes
        on payers_seen.payer_id = payer_classes.payer_id
    where payer_classes.payer_id is null

),

names_ranked as (

    select
        payer_id,
        payer_name,
        row_number() over (
            partition by payer_id
            order by count(payer_name) desc, payer_name asc
        ) as name_rank
    from payers_not_listed
    group by payer_id, payer_name

),

filing_indicators_ranked as (

    select
        payer_id,
        claim_filing_indicator_code,
        row_number() over (
            partition by payer_id
            order by
                count(claim_filing_indicator_code) desc,
                claim_filing_indicator_code asc
        ) as indicator_rank
    from payers_not_listed
    group by payer_id, claim_filing_indicator_code

),

unlisted_payers as (

    select
        names_ranked.payer_id,
        coalesce(names_ranked.payer_name, names_ranked.payer_id) as payer_name,
        'unknown' as payer_class,
        'Unknown' as payer_class_label,
        filing_indicators_ranked.claim_filing_indicator_code,
        cast(null as boolean) as is_government,
        false as is_in_terminology
    from names_ranked
    inner join filing_indicators_ranked
        on
            names_ranked.payer_id = filing_indicators_ranked.payer_id
            and filing_indicators_ranked.indicator_rank = 1
    where names_ranked.name_rank = 1

),

listed_payers as (

    select
        payer_id,
        payer_name,
        payer_class,
        payer_class_label,
        claim_filing_indicator_code,
        is_government,
        true as is_in_terminology
    from payer_classes

),

all_payers as (

    select * from listed_payers

    union all

    select * from unlisted_payers

)

select
    payer_id,
    payer_name,
    payer_class,
    payer_class_label,
    claim_filing_indicator_code,
    is_government,
    is_in_terminology
from all_payers
