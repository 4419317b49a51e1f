-- Rule: accounts receivable at the as-of date is every claim's open balance (MGMA/HFMA
-- A/R: billed and not yet collected or adjusted off). fct_ar_daily's rows for the
-- as-of date (all payer classes, responsible parties and aging buckets) sum to
-- Σ fct_claims.balance, to the cent; no A/R is dated after the as-of date. Returns a row
-- when either does not hold.
-- A test of several models: dagster-dbt attaches it to fct_ar_daily as an asset check (so
-- publishing waits for it) through this meta ref.
{{ config(meta={'dagster': {'ref': {'name': 'fct_ar_daily'}}}) }}

with

ar_daily as (

    select * from {{ ref('fct_ar_daily') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

as_of as (

    select * from {{ ref('int_as_of_date_derived') }}

),

ar_at_as_of as (

    select
        max(as_of.as_of_date) as as_of_date,
        coalesce(sum(ar_daily.ar_balance), 0) as ar_balance,
        count(ar_daily.ar_daily_id) as ar_rows
    from as_of
    left join ar_daily
        on as_of.as_of_date = ar_daily.date_day

),

ar_after_as_of as (

    select count(*) as rows_after_as_of
    from ar_daily
    cross join as_of
    where ar_daily.date_day > as_of.as_of_date

),

claim_balances as (

    select coalesce(sum(balance), 0) as balance
    from claims

)

select
    ar_at_as_of.as_of_date,
    ar_at_as_of.ar_balance,
    ar_at_as_of.ar_rows,
    claim_balances.balance as claim_balance,
    ar_after_as_of.rows_after_as_of
from ar_at_as_of
cross join claim_balances
cross join ar_after_as_of
where
    ar_at_as_of.ar_balance != claim_balances.balance
    or ar_after_as_of.rows_after_as_of > 0
