-- Rule: one A/R (MGMA/HFMA: billed and not yet collected or adjusted off, aged from the
-- date of service). fct_ar_snapshots (claim level) and fct_ar_daily (service dates × days)
-- are built from the same balance events, so on every snapshot date (each month end
-- before the as-of date, and the as-of date) the claims' balances sum to fct_ar_daily's
-- for every payer class × responsible party × aging bucket, to the cent (a snapshot on
-- any other date finds no A/R to tie to; the mart's own test holds that every snapshot is
-- a month end or the as-of date). Returns one row per cell that does not tie.
-- A test of several models: dagster-dbt attaches it to fct_ar_snapshots as an asset check
-- (so publishing waits for it) through this meta ref.
{{ config(meta={'dagster': {'ref': {'name': 'fct_ar_snapshots'}}}) }}

with

snapshots as (

    select * from {{ ref('fct_ar_snapshots') }}

),

ar_daily as (

    select * from {{ ref('fct_ar_daily') }}

),

as_of as (

    select * from {{ ref('int_as_of_date_derived') }}

),

snapshot_totals as (

    select
        snapshot_date,
        payer_class,
        responsible_party,
        aging_bucket,
        sum(balance) as balance
    from snapshots
    group by snapshot_date, payer_class, responsible_party, aging_bucket

),

daily_totals as (

    select
        ar_daily.date_day as snapshot_date,
        ar_daily.payer_class,
        ar_daily.responsible_party,
        ar_daily.aging_bucket,
        sum(ar_daily.ar_balance) as ar_balance
    from ar_daily
    cross join as_of
    where
        (ar_daily.is_month_end and ar_daily.date_day < as_of.as_of_date)
        or ar_daily.date_day = as_of.as_of_date
    group by
        ar_daily.date_day,
        ar_daily.payer_class,
        ar_daily.responsible_party,
        ar_daily.aging_bucket

),

compared as (

    select
        coalesce(snapshot_totals.snapshot_date, daily_totals.snapshot_date) as snapshot_date,
        coalesce(snapshot_totals.payer_class, daily_totals.payer_class) as payer_class,
        coalesce(snapshot_totals.responsible_party, daily_totals.responsible_party)
            as responsible_party,
        coalesce(snapshot_totals.aging_bucket, daily_totals.aging_bucket) as aging_bucket,
        coalesce(snapshot_totals.balance, 0) as snapshots_balance,
        coalesce(daily_totals.ar_balance, 0) as ar_daily_balance
    from snapshot_totals
    full outer join daily_totals
        on
            snapshot_totals.snapshot_date = daily_totals.snapshot_date
            and snapshot_totals.payer_class = daily_totals.payer_class
            and snapshot_totals.responsible_party = daily_totals.responsible_party
            and snapshot_totals.aging_bucket = daily_totals.aging_bucket

)

select *
from compared
where snapshots_balance != ar_daily_balance
