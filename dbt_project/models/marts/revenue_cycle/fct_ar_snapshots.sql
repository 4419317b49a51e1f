-- One row per snapshot date × claim × responsible party with an open balance: each claim's
-- accounts receivable (MGMA/HFMA A/R: billed and not yet paid or adjusted off) at every
-- month end and on the as-of date, aged from the date of service in the HFMA MAP Key AR-2
-- buckets (macro aging_bucket, as fct_ar_daily). Built from the events fct_ar_daily
-- uses (int_claim_balance_events_listed; an event dated before the service date, a
-- prepayment, counts from the service date), so on every snapshot date the balances sum
-- to fct_ar_daily's per payer class × responsible party × aging bucket (singular test
-- assert_ar_snapshots_tie_to_ar_daily). A claim's events are summed into the first
-- snapshot on or after them and run forward over the snapshots from its service date;
-- once a claim-party's events net to zero it is not carried past its last event.
{%- set claims_model = ref('int_claims_adjudicated') -%}
{%- set as_of_model = ref('int_as_of_date_derived') -%}
{%- set first_month = "(select " ~ month_of('min(service_date)') ~ " from " ~ claims_model ~ ")" -%}
{%- set as_of_month = "(select " ~ month_of('max(as_of_date)') ~ " from " ~ as_of_model ~ ")" %}

with

events as (

    select * from {{ ref('int_claim_balance_events_listed') }}

),

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

),

as_of as (

    select * from {{ ref('int_as_of_date_derived') }}

),

months as (

    select date_month as month_start
    from ({{ date_series('month', first_month, as_of_month) }}) as series

),

snapshot_dates as (

    -- every month end before the as-of date, and the as-of date itself
    select
        least(
            cast({{ dbt.last_day('months.month_start', 'month') }} as date), as_of.as_of_date
        ) as snapshot_date,
        as_of.as_of_date
    from months
    cross join as_of

),

dated_events as (

    -- an event before the service date (a prepayment) counts from the service date
    select
        events.claim_id,
        events.responsible_party,
        events.service_date,
        events.amount,
        greatest(events.event_date, events.service_date) as effective_date
    from events

),

cells as (

    -- each event in the first snapshot on or after it: its month end, or the as-of date
    select
        dated_events.claim_id,
        dated_events.responsible_party,
        dated_events.service_date,
        least(
            cast({{ dbt.last_day('dated_events.effective_date', 'month') }} as date),
            as_of.as_of_date
        ) as snapshot_date,
        sum(dated_events.amount) as amount
    from dated_events
    cross join as_of
    where dated_events.effective_date <= as_of.as_of_date
    group by
        dated_events.claim_id,
        dated_events.responsible_party,
        dated_events.service_date,
        least(
            cast({{ dbt.last_day('dated_events.effective_date', 'month') }} as date),
            as_of.as_of_date
        )

),

series as (

    -- a claim-party whose events net to zero is settled after its last snapshot with one
    select
        claim_id,
        responsible_party,
        service_date,
        case when sum(amount) = 0 then max(snapshot_date) end as settled_date
    from cells
    group by claim_id, responsible_party, service_date

),

grid as (

    select
        series.claim_id,
        series.responsible_party,
        series.service_date,
        snapshot_dates.snapshot_date,
        snapshot_dates.as_of_date
    from series
    inner join snapshot_dates
        on
            series.service_date <= snapshot_dates.snapshot_date
            and (
                series.settled_date is null
                or series.settled_date >= snapshot_dates.snapshot_date
            )

),

running as (

    select
        grid.snapshot_date,
        grid.as_of_date,
        grid.claim_id,
        grid.responsible_party,
        grid.service_date,
        {{ days_between('grid.service_date', 'grid.snapshot_date') }} as days_outstanding,
        sum(coalesce(cells.amount, 0)) over (
            partition by grid.claim_id, grid.responsible_party
            order by grid.snapshot_date
            rows between unbounded preceding and current row
        ) as balance
    from grid
    left join cells
        on
            grid.claim_id = cells.claim_id
            and grid.responsible_party = cells.responsible_party
            and grid.snapshot_date = cells.snapshot_date

),

open_balances as (

    select
        running.*,
        {{ aging_bucket('running.days_outstanding') }} as aging_bucket,
        {{ aging_bucket_order('running.days_outstanding') }} as aging_bucket_order,
        {{ is_over_90_days('running.days_outstanding') }} as is_over_90_days
    from running
    where running.balance <> 0

)

select
    -- grain
    {{ composite_key(['open_balances.snapshot_date', 'open_balances.claim_id',
                      'open_balances.responsible_party']) }} as ar_snapshot_id,
    open_balances.snapshot_date,
    open_balances.snapshot_date = open_balances.as_of_date as is_as_of_date,
    open_balances.snapshot_date
    = cast({{ dbt.last_day('open_balances.snapshot_date', 'month') }} as date) as is_month_end,

    -- ids
    open_balances.claim_id,
    claims.payer_id,
    claims.payer_class,
    claims.provider_npi,
    claims.location_id,
    open_balances.responsible_party,

    -- aging
    open_balances.service_date,
    cast(open_balances.days_outstanding as integer) as days_outstanding,
    open_balances.aging_bucket,
    open_balances.aging_bucket_order,
    open_balances.is_over_90_days,

    -- amounts
    cast(open_balances.balance as decimal(18, 2)) as balance
from open_balances
inner join claims
    on open_balances.claim_id = claims.claim_id
