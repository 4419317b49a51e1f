-- One row per day × payer class × responsible party × aging bucket with a balance: the
-- accounts receivable open at the end of that day (MGMA/HFMA A/R; aging from the date of
-- service, HFMA MAP Key AR-2 buckets 0–30, 31–60, 61–90, 91–120, over 120 days: macro
-- aging_bucket, shared with fct_ar_snapshots). Built from int_claim_balance_events_listed:
-- a claim's balance on day d is the sum of its events dated up to d, so the A/R of a day
-- is a running sum per service date, and the grid is service dates × days, never
-- claims × days (fct_ar_snapshots has the claims, at month ends and the as-of date).
{%- set claims_model = ref('int_claims_adjudicated') -%}
{%- set first_service_date = "(select min(service_date) from " ~ claims_model ~ ")" -%}
{%- set as_of_date = "(select max(as_of_date) from " ~ ref('int_as_of_date_derived') ~ ")" %}

with

events as (

    select * from {{ ref('int_claim_balance_events_listed') }}

),

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

),

calendar as (

    {{ date_series('day', first_service_date, as_of_date) }}

),

cells as (

    -- an event before the service date (a prepayment) counts from the service date
    select
        events.service_date,
        claims.payer_class,
        events.responsible_party,
        greatest(events.event_date, events.service_date) as event_date,
        sum(events.amount) as amount
    from events
    inner join claims
        on events.claim_id = claims.claim_id
    group by
        events.service_date,
        claims.payer_class,
        events.responsible_party,
        greatest(events.event_date, events.service_date)

),

series as (

    select distinct
        service_date,
        payer_class,
        responsible_party
    from cells

),

grid as (

    select
        series.service_date,
        series.payer_class,
        series.responsible_party,
        calendar.date_day
    from series
    inner join calendar
        on series.service_date <= calendar.date_day

),

running as (

    select
        grid.date_day,
        grid.payer_class,
        grid.responsible_party,
        {{ days_between('grid.service_date', 'grid.date_day') }} as days_outstanding,
        sum(coalesce(cells.amount, 0)) over (
            partition by grid.service_date, grid.payer_class, grid.responsible_party
            order by grid.date_day
            rows between unbounded preceding and current row
        ) as balance
    from grid
    left join cells
        on
            grid.service_date = cells.service_date
            and grid.payer_class = cells.payer_class
            and grid.responsible_party = cells.responsible_party
            and grid.date_day = cells.event_date

),

bucketed as (

    select
        date_day,
        payer_class,
        responsible_party,
        balance,
        {{ aging_bucket('days_outstanding') }} as aging_bucket,
        {{ aging_bucket_order('days_outstanding') }} as aging_bucket_order,
        {{ is_over_90_days('days_outstanding') }} as is_over_90_days
    from running

)

select
    {{ composite_key(['date_day', 'payer_class', 'responsible_party', 'aging_bucket']) }}
        as ar_daily_id,
    date_day,
    payer_class,
    responsible_party,
    aging_bucket,
    aging_bucket_order,
    is_over_90_days,
    date_day = cast({{ dbt.last_day('date_day', 'month') }} as date) as is_month_end,
    cast(sum(balance) as decimal(18, 2)) as ar_balance
from bucketed
group by
    date_day, payer_class, responsible_party, aging_bucket, aging_bucket_order, is_over_90_days
having sum(balance) <> 0
