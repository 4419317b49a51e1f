-- Revenue-cycle KPIs per calendar month, for the practice and for each provider, payer,
-- location and payer class (the segment). Definitions: ../shared/reference/kpis.md (MGMA cost and
-- revenue formulas; HFMA MAP Keys AR-1/AR-2, AR-6, PA-7; HFMA Claim Integrity Task
-- Force), with numerators, denominators and date bases in _kpis__models.yml:
--   gross collection rate   payer + patient payments (posting month) ÷ charges (service month)
--   net collection rate     cohort payments ÷ (charges − contractual), service-month cohort
--   days in A/R             month-end A/R ÷ (charges of the trailing 90 days ÷ 90)
--   A/R > 90 days %         month-end A/R with service over 90 days before ÷ month-end A/R
--                           (in the month still running: on the as-of date, not month end)
--   initial denial rate     first adjudications that denied ÷ first adjudications (count, $)
--   clean claim rate        first adjudications that paid ÷ first adjudications (proxy)
--   first-pass resolution   paid first and never reversed ÷ first adjudications
--   denial overturn rate    overturned ÷ (overturned + written off), first-adjudication month
--   denial write-off %      denial write-offs (write-off month) ÷ (charges − contractual)
--   charge lag, days to pay mean days, submission month / first payment month
--   POS collection share    patient payments at the visit ÷ positive patient payments
--   no-show rate            no-shows ÷ appointments due (kept + no-show)
-- A claim belongs to the segments of its original submission (rendering provider, payer
-- billed first and that payer's class, visit location); money posted to it counts there.
-- Self-pay visits are not claims and are left out; PLB amounts are no claim's and are
-- left out of payments.
{%- set claims_model, as_of_model = ref('fct_claims'), ref('int_as_of_date_derived') -%}
{%- set first_month = "(select " ~ month_of('min(service_date)') ~ " from " ~ claims_model ~ ")" -%}
{%- set as_of_month = "(select " ~ month_of('max(as_of_date)') ~ " from " ~ as_of_model ~ ")" %}

with

claims as (

    select * from {{ ref('fct_claims') }}

),

payments as (

    select * from {{ ref('fct_payments') }}

),

balance_events as (

    select * from {{ ref('int_claim_balance_events_listed') }}

),

appointments as (

    select * from {{ ref('fct_appointments') }}

),

visits as (

    select * from {{ ref('fct_visits') }}

),

as_of as (

    select * from {{ ref('int_as_of_date_derived') }}

),

claim_segments as (

    select
        claim_id,
        'practice' as segment_type,
        'all' as segment_id
    from claims
    union all
    select
        claim_id,
        'provider' as segment_type,
        provider_npi as segment_id
    from claims
    union all
    select
        claim_id,
        'payer' as segment_type,
        payer_id as segment_id
    from claims
    union all
    select
        claim_id,
        'location' as segment_type,
        location_id as segment_id
    from claims
    union all
    select
        claim_id,
        'payer_class' as segment_type,
        payer_class as segment_id
    from claims

),

segmented_claims as (

    select
        claims.*,
        claim_segments.segment_type,
        claim_segments.segment_id,
        {{ month_of('claims.service_date') }} as service_month,
        {{ month_of('claims.submission_date') }} as submission_month,
        {{ month_of('claims.first_adjudication_date') }} as first_adjudication_month,
        {{ month_of('claims.first_payment_date') }} as first_payment_month,
        {{ month_of('claims.writeoff_date') }} as writeoff_month
    from claims
    inner join claim_segments
        on claims.claim_id = claim_segments.claim_id
    where claim_segments.segment_id is not null

),

appointment_segments as (

    select
        'practice' as segment_type,
        'all' as segment_id,
        *
    from appointments
    union all
    select
        'provider' as segment_type,
        provider_npi as segment_id,
        *
    from appointments
    union all
    select
        'payer' as segment_type,
        payer_id as segment_id,
        *
    from appointments
    union all
    select
        'location' as segment_type,
        location_id as segment_id,
        *
    from appointments
    union all
    select
        'payer_class' as segment_type,
        payer_class as segment_id,
        *
    from appointments

),

visit_segments as (

    select
        'practice' as segment_type,
        'all' as segment_id,
        *
    from visits
    union all
    select
        'provider' as segment_type,
        provider_npi as segment_id,
        *
    from visits
    union all
    select
        'payer' as segment_type,
        payer_id as segment_id,
        *
    from visits
    union all
    select
        'location' as segment_type,
        location_id as segment_id,
        *
    from visits
    union all
    select
        'payer_class' as segment_type,
        payer_class as segment_id,
        *
    from visits

),

months as (

    select date_month as month_start
    from ({{ date_series('month', first_month, as_of_month) }}) as series

),

segment_months as (

    select
        segments.segment_type,
        segments.segment_id,
        months.month_start,
        cast({{ dbt.last_day('months.month_start', 'month') }} as date) as month_end,
        -- A/R is measured at month end, or on the as-of date in the month still running
        least(
            cast({{ dbt.last_day('months.month_start', 'month') }} as date), as_of.as_of_date
        ) as snapshot_date
    from (
        select distinct
            segment_type,
            segment_id
        from segmented_claims
        union
        select distinct
            segment_type,
            segment_id
        from appointment_segments
        where segment_id is not null
    ) as segments
    cross join months
    cross join as_of

),

service_cohort as (

    select
        segment_type,
        segment_id,
        service_month as month_start,
        count(*) as claims_count,
        sum(charges) as charges,
        sum(payer_paid + patient_paid) as cohort_paid,
        sum(contractual_amount) as cohort_contractual
    from segmented_claims
    group by segment_type, segment_id, service_month

),

payments_posted as (

    select
        claim_segments.segment_type,
        claim_segments.segment_id,
        payments.posted_month as month_start,
        sum(case when payments.payment_source = 'payer' then payments.amount else 0 end)
            as payer_payments,
        sum(case when payments.payment_source = 'patient' then payments.amount else 0 end)
            as patient_payments,
        sum(case when payments.is_point_of_service then payments.amount else 0 end)
            as point_of_service_payments,
        sum(
            case
                when payments.payment_source = 'patient' and payments.amount > 0
                    then payments.amount
                else 0
            end
        ) as gross_patient_payments
    from payments
    inner join claim_segments
        on payments.claim_id = claim_segments.claim_id
    where claim_segments.segment_id is not null
    group by claim_segments.segment_type, claim_segments.segment_id, payments.posted_month

),

first_adjudications as (

    select
        segment_type,
        segment_id,
        first_adjudication_month as month_start,
        count(*) as claims_adjudicated,
        count(case when is_denied_first_pass then 1 end) as claims_denied,
        sum(charges) as adjudicated_charges,
        sum(case when is_denied_first_pass then charges else 0 end) as denied_charges,
        count(case when is_clean_claim then 1 end) as clean_claims,
        count(case when is_first_pass_resolved then 1 end) as first_pass_resolved,
        count(case when denial_outcome = 'overturned' then 1 end) as denials_overturned,
        count(case when denial_outcome in ('overturned', 'written_off') then 1 end)
            as denials_resolved
    from segmented_claims
    where first_adjudication_date is not null
    group by segment_type, segment_id, first_adjudication_month

),

writeoffs as (

    select
        segment_type,
        segment_id,
        writeoff_month as month_start,
        sum(denial_writeoff_amount) as denial_writeoffs
    from segmented_claims
    where writeoff_date is not null
    group by segment_type, segment_id, writeoff_month

),

submissions as (

    select
        segment_type,
        segment_id,
        submission_month as month_start,
        count(*) as claims_submitted,
        sum(charge_lag_days) as charge_lag_days_total
    from segmented_claims
    group by segment_type, segment_id, submission_month

),

first_payments as (

    select
        segment_type,
        segment_id,
        first_payment_month as month_start,
        count(*) as claims_first_paid,
        sum(days_to_payment) as days_to_payment_total
    from segmented_claims
    where first_payment_date is not null
    group by segment_type, segment_id, first_payment_month

),

ar_cells as (

    select
        claim_segments.segment_type,
        claim_segments.segment_id,
        balance_events.service_date,
        balance_events.amount,
        {{ month_of('balance_events.event_date') }} as event_month
    from balance_events
    inner join claim_segments
        on balance_events.claim_id = claim_segments.claim_id
    where claim_segments.segment_id is not null

),

ar_cell_totals as (

    select
        segment_type,
        segment_id,
        event_month,
        service_date,
        sum(amount) as amount
    from ar_cells
    group by segment_type, segment_id, event_month, service_date

),

ar_month_end as (

    -- the balance on the snapshot day is the sum of events up to it; a claim is over 90
    -- days when its service date is more than 90 days before the snapshot day (the
    -- aging_bucket rule of fct_ar_daily)
    select
        segment_months.segment_type,
        segment_months.segment_id,
        segment_months.month_start,
        sum(ar_cells.amount) as ar_balance,
        sum(
            case
                when {{ is_over_90_days(
                    days_between('ar_cells.service_date', 'segment_months.snapshot_date')
                ) }}
                    then ar_cells.amount
                else 0
            end
        ) as ar_over_90
    from segment_months
    inner join ar_cell_totals as ar_cells
        on
            segment_months.segment_type = ar_cells.segment_type
            and segment_months.segment_id = ar_cells.segment_id
            and segment_months.month_start >= ar_cells.event_month
    group by segment_months.segment_type, segment_months.segment_id, segment_months.month_start

),

daily_charges as (

    select
        segment_type,
        segment_id,
        service_date,
        sum(charges) as charges
    from segmented_claims
    group by segment_type, segment_id, service_date

),

trailing_charges as (

    select
        segment_months.segment_type,
        segment_months.segment_id,
        segment_months.month_start,
        sum(daily_charges.charges) as charges_90d
    from segment_months
    inner join daily_charges
        on
            segment_months.segment_type = daily_charges.segment_type
            and segment_months.segment_id = daily_charges.segment_id
            and segment_months.snapshot_date >= daily_charges.service_date
            and {{ days_between('daily_charges.service_date', 'segment_months.snapshot_date') }}
            < 90
    group by segment_months.segment_type, segment_months.segment_id, segment_months.month_start

),

scheduling as (

    select
        segment_type,
        segment_id,
        appointment_month as month_start,
        count(case when is_due then 1 end) as appointments_due,
        count(case when is_no_show then 1 end) as no_shows
    from appointment_segments
    where segment_id is not null
    group by segment_type, segment_id, appointment_month

),

visit_mix as (

    select
        segment_type,
        segment_id,
        service_month as month_start,
        count(*) as visits,
        count(case when visit_family = 'preventive' then 1 end) as preventive_visits,
        count(case when visit_family = 'wellness' then 1 end) as wellness_visits,
        count(case when visit_family = 'problem_em' then 1 end) as problem_visits,
        count(case when visit_family in ('chronic_care', 'transitional_care') then 1 end)
            as chronic_care_visits,
        count(case when em_level is not null then 1 end) as em_visits,
        count(case when em_level >= 4 then 1 end) as em_level_4_5_visits,
        count(case when has_modifier_25 then 1 end) as modifier_25_visits,
        count(case when has_g2211 then 1 end) as g2211_visits
    from visit_segments
    where segment_id is not null
    group by segment_type, segment_id, service_month

),

joined as (

    select
        segment_months.segment_type,
        segment_months.segment_id,
        segment_months.month_start,
        segment_months.month_end,
        segment_months.snapshot_date,
        coalesce(service_cohort.claims_count, 0) as claims_count,
        coalesce(service_cohort.charges, 0) as charges,
        coalesce(service_cohort.cohort_paid, 0) as cohort_paid,
        coalesce(service_cohort.cohort_contractual, 0) as cohort_contractual,
        coalesce(payments_posted.payer_payments, 0) as payer_payments,
        coalesce(payments_posted.patient_payments, 0) as patient_payments,
        coalesce(payments_posted.point_of_service_payments, 0) as point_of_service_payments,
        coalesce(payments_posted.gross_patient_payments, 0) as gross_patient_payments,
        coalesce(ar_month_end.ar_balance, 0) as ar_balance,
        coalesce(ar_month_end.ar_over_90, 0) as ar_over_90,
        coalesce(trailing_charges.charges_90d, 0) as charges_90d,
        coalesce(first_adjudications.claims_adjudicated, 0) as claims_adjudicated,
        coalesce(first_adjudications.claims_denied, 0) as claims_denied,
        coalesce(first_adjudications.adjudicated_charges, 0) as adjudicated_charges,
        coalesce(first_adjudications.denied_charges, 0) as denied_charges,
        coalesce(first_adjudications.clean_claims, 0) as clean_claims,
        coalesce(first_adjudications.first_pass_resolved, 0) as first_pass_resolved,
        coalesce(first_adjudications.denials_overturned, 0) as denials_overturned,
        coalesce(first_adjudications.denials_resolved, 0) as denials_resolved,
        coalesce(writeoffs.denial_writeoffs, 0) as denial_writeoffs,
        coalesce(submissions.claims_submitted, 0) as claims_submitted,
        coalesce(submissions.charge_lag_days_total, 0) as charge_lag_days_total,
        coalesce(first_payments.claims_first_paid, 0) as claims_first_paid,
        coalesce(first_payments.days_to_payment_total, 0) as days_to_payment_total,
        coalesce(scheduling.appointments_due, 0) as appointments_due,
        coalesce(scheduling.no_shows, 0) as no_shows,
        coalesce(visit_mix.visits, 0) as visits,
        coalesce(visit_mix.preventive_visits, 0) as preventive_visits,
        coalesce(visit_mix.wellness_visits, 0) as wellness_visits,
        coalesce(visit_mix.problem_visits, 0) as problem_visits,
        coalesce(visit_mix.chronic_care_visits, 0) as chronic_care_visits,
        coalesce(visit_mix.em_visits, 0) as em_visits,
        coalesce(visit_mix.em_level_4_5_visits, 0) as em_level_4_5_visits,
        coalesce(visit_mix.modifier_25_visits, 0) as modifier_25_visits,
        coalesce(visit_mix.g2211_visits, 0) as g2211_visits
    from segment_months
    {% for part in ['service_cohort', 'payments_posted', 'first_adjudications', 'writeoffs',
                    'submissions', 'first_payments', 'ar_month_end', 'trailing_charges',
                    'scheduling', 'visit_mix'] %}
    left join {{ part }}
        on
            segment_months.segment_type = {{ part }}.segment_type
            and segment_months.segment_id = {{ part }}.segment_id
            and segment_months.month_start = {{ part }}.month_start
    {% endfor %}

)

select
    -- grain
    {{ composite_key(['segment_type', 'segment_id', 'month_start']) }} as kpi_month_id,
    segment_type,
    segment_id,
    month_start,
    month_end,
    snapshot_date,

    -- rates
    {{ safe_ratio('payer_payments + patient_payments', 'charges') }} as gross_collection_rate,
    {{ safe_ratio('cohort_paid', 'charges - cohort_contractual') }} as net_collection_rate,
    {{ safe_ratio('ar_balance', 'charges_90d / 90.0') }} as days_in_ar,
    {{ safe_ratio('ar_over_90', 'ar_balance') }} as ar_over_90_pct,
    {{ safe_ratio('claims_denied', 'claims_adjudicated') }} as initial_denial_rate,
    {{ safe_ratio('denied_charges', 'adjudicated_charges') }} as initial_denial_rate_dollars,
    {{ safe_ratio('clean_claims', 'claims_adjudicated') }} as clean_claim_rate,
    {{ safe_ratio('first_pass_resolved', 'claims_adjudicated') }} as first_pass_resolution_rate,
    {{ safe_ratio('denials_overturned', 'denials_resolved') }} as denial_overturn_rate,
    {{ safe_ratio('denial_writeoffs', 'charges - cohort_contractual') }} as denial_writeoff_pct,
    {{ safe_ratio('charge_lag_days_total', 'claims_submitted') }} as charge_lag_days_avg,
    {{ safe_ratio('days_to_payment_total', 'claims_first_paid') }} as days_to_payment_avg,
    {{ safe_ratio('point_of_service_payments', 'gross_patient_payments') }}
        as pos_collection_share,
    {{ safe_ratio('no_shows', 'appointments_due') }} as no_show_rate,
    {{ safe_ratio('preventive_visits', 'visits') }} as preventive_visit_share,
    {{ safe_ratio('wellness_visits', 'visits') }} as wellness_visit_share,
    {{ safe_ratio('problem_visits', 'visits') }} as problem_visit_share,
    {{ safe_ratio('chronic_care_visits', 'visits') }} as chronic_care_visit_share,
    {{ safe_ratio('em_level_4_5_visits', 'em_visits') }} as em_level_4_5_share,
    {{ safe_ratio('modifier_25_visits', 'visits') }} as modifier_25_share,
    {{ safe_ratio('g2211_visits', 'em_visits') }} as g2211_share,

    -- counts
    claims_count,
    claims_submitted,
    claims_adjudicated,
    claims_denied,
    clean_claims,
    first_pass_resolved,
    denials_overturned,
    denials_resolved,
    claims_first_paid,
    appointments_due,
    no_shows,
    visits,
    preventive_visits,
    wellness_visits,
    problem_visits,
    chronic_care_visits,
    em_visits,
    em_level_4_5_visits,
    modifier_25_visits,
    g2211_visits,
    cast(charge_lag_days_total as bigint) as charge_lag_days_total,
    cast(days_to_payment_total as bigint) as days_to_payment_total,

    -- amounts
    cast(charges as decimal(18, 2)) as charges,
    cast(cohort_paid as decimal(18, 2)) as cohort_paid,
    cast(cohort_contractual as decimal(18, 2)) as cohort_contractual,
    cast(payer_payments as decimal(18, 2)) as payer_payments,
    cast(patient_payments as decimal(18, 2)) as patient_payments,
    cast(point_of_service_payments as decimal(18, 2)) as point_of_service_payments,
    cast(gross_patient_payments as decimal(18, 2)) as gross_patient_payments,
    cast(ar_balance as decimal(18, 2)) as ar_balance,
    cast(ar_over_90 as decimal(18, 2)) as ar_over_90,
    cast(charges_90d as decimal(18, 2)) as charges_90d,
    cast(adjudicated_charges as decimal(18, 2)) as adjudicated_charges,
    cast(denied_charges as decimal(18, 2)) as denied_charges,
    cast(denial_writeoffs as decimal(18, 2)) as denial_writeoffs
from joined
