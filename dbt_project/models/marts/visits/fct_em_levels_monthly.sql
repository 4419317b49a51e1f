-- E/M level mix against the family-medicine benchmark (seed terminology__em_benchmark:
-- AAFP FPM quoting DecisionHealth, Medicare family physicians 2017; kpis.md). Our design:
-- for each service month, segment (the whole practice, and each rendering provider) and
-- patient status (new 99202-99205, established 99211-99215) with at least one problem
-- E/M, one row per office E/M level of that status, levels with no visits included, so a
-- level the practice never bills shows as 0 against its benchmark. A visit's level is
-- its one E/M code (int_visits_coded); the status is the E/M code's own.
with

visits as (

    select * from {{ ref('fct_visits') }}

),

services as (

    select * from {{ ref('dim_service') }}

),

em_benchmark as (

    select * from {{ ref('terminology__em_benchmark') }}

),

em_visits as (

    select
        visits.service_month,
        visits.provider_npi,
        visits.em_code,
        services.patient_status
    from visits
    inner join services
        on visits.em_code = services.procedure_code
    where visits.em_code is not null

),

em_visits_segmented as (

    select
        service_month,
        'practice' as segment_type,
        'all' as segment_id,
        patient_status,
        em_code
    from em_visits

    union all

    select
        service_month,
        'provider' as segment_type,
        provider_npi as segment_id,
        patient_status,
        em_code
    from em_visits

),

segments as (

    select
        service_month,
        segment_type,
        segment_id,
        patient_status,
        count(*) as segment_em_visits
    from em_visits_segmented
    group by service_month, segment_type, segment_id, patient_status

),

em_codes_by_status as (

    select
        procedure_code as em_code,
        em_level,
        patient_status
    from services
    where is_office_em

),

level_visits as (

    select
        service_month,
        segment_type,
        segment_id,
        em_code,
        count(*) as em_visits
    from em_visits_segmented
    group by service_month, segment_type, segment_id, em_code

),

level_grid as (

    select
        segments.service_month,
        segments.segment_type,
        segments.segment_id,
        segments.patient_status,
        em_codes_by_status.em_code,
        em_codes_by_status.em_level,
        segments.segment_em_visits,
        cast(em_benchmark.benchmark_share as double) as benchmark_share,
        coalesce(level_visits.em_visits, 0) as em_visits
    from segments
    inner join em_codes_by_status
        on segments.patient_status = em_codes_by_status.patient_status
    left join level_visits
        on
            segments.service_month = level_visits.service_month
            and segments.segment_type = level_visits.segment_type
            and segments.segment_id = level_visits.segment_id
            and em_codes_by_status.em_code = level_visits.em_code
    left join em_benchmark
        on em_codes_by_status.em_code = em_benchmark.procedure_code

),

level_shares as (

    select
        {{ composite_key([
            'service_month', 'segment_type', 'segment_id', 'patient_status', 'em_level'
        ]) }} as em_level_month_id,
        service_month,
        segment_type,
        segment_id,
        patient_status,
        em_code,
        em_level,
        em_visits,
        segment_em_visits,
        cast(em_visits as double) / segment_em_visits as visit_share,
        benchmark_share,
        cast(em_visits as double) / segment_em_visits - benchmark_share
            as share_minus_benchmark
    from level_grid

)

select
    em_level_month_id,
    service_month,
    segment_type,
    segment_id,
    patient_status,
    em_code,
    em_level,
    em_visits,
    segment_em_visits,
    visit_share,
    benchmark_share,
    share_minus_benchmark
from level_shares
