-- Calendar: one row per day from the first to the last day the data mentions, so every
-- date basis of kpis.md (service, submission, payment and posting dates; appointment
-- bookings and starts) joins to it. Days after the data's as-of date
-- (int_as_of_date_derived) are flagged: they hold only appointments booked ahead.
-- Portable: dbt's cross-database date macros and plain arithmetic, no DuckDB functions.
with

appointments as (

    select * from {{ ref('stg_scheduling__appointments') }}

),

claims as (

    select * from {{ ref('stg_claims_837__claims') }}

),

service_lines as (

    select * from {{ ref('stg_claims_837__service_lines') }}

),

remittances as (

    select * from {{ ref('stg_remits_835__payments') }}

),

patient_payments as (

    select * from {{ ref('stg_patient_payments__payments') }}

),

as_of as (

    select * from {{ ref('int_as_of_date_derived') }}

),

data_dates as (

    select appointment_date as data_date
    from appointments

    union all

    select cast(booked_at as date) as data_date
    from appointments

    union all

    select service_from_date as data_date
    from service_lines

    union all

    select service_to_date as data_date
    from service_lines

    union all

    select submission_date as data_date
    from claims

    union all

    select payment_date as data_date
    from remittances

    union all

    select payment_date as data_date
    from patient_payments

    union all

    select posted_date as data_date
    from patient_payments

),

date_bounds as (

    select
        min(data_dates.data_date) as first_date,
        max(data_dates.data_date) as last_date,
        max(as_of.as_of_date) as as_of_date
    from data_dates
    cross join as_of

),

-- Day offsets 0-99,999 from five digits (274 years, far more than any extract spans),
-- plain SQL so the spine runs on any adapter
digits as (

    select digit_values.digit
    from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as digit_values (digit)

),

day_offsets as (

    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days_spanned as (

    select
        date_bounds.as_of_date,
        date_bounds.last_date,
        cast(
            {{ dbt.dateadd('day', 'day_offsets.day_offset', 'date_bounds.first_date') }} as date
        ) as date_day
    from date_bounds
    cross join day_offsets

),

days as (

    select
        date_day,
        as_of_date
    from days_spanned
    where date_day <= last_date

),

calendar as (

    select
        date_day,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        cast({{ dbt.last_day('date_day', 'month') }} as date) as month_end,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        -- 1 January 1900 was a Monday, so days since then mod 7 gives the ISO weekday
        cast(
            mod({{ dbt.datediff("cast('1900-01-01' as date)", 'date_day', 'day') }}, 7) + 1
            as integer
        ) as iso_weekday,
        date_day > as_of_date as is_future
    from days

),

named as (

    select
        date_day,
        month_start,
        month_end,
        year_number,
        quarter_number,
        month_number,
        iso_weekday,
        is_future,
        case month_number
            when 1 then 'January'
            when 2 then 'February'
            when 3 then 'March'
            when 4 then 'April'
            when 5 then 'May'
            when 6 then 'June'
            when 7 then 'July'
            when 8 then 'August'
            when 9 then 'September'
            when 10 then 'October'
            when 11 then 'November'
            when 12 then 'December'
        end as month_name,
        case iso_weekday
            when 1 then 'Monday'
            when 2 then 'Tuesday'
            when 3 then 'Wednesday'
            when 4 then 'Thursday'
            when 5 then 'Friday'
            when 6 then 'Saturday'
            when 7 then 'Sunday'
        end as weekday_name,
        iso_weekday >= 6 as is_weekend
    from calendar

)

select
    date_day,
    month_start,
    month_end,
    year_number,
    quarter_number,
    month_number,
    month_name,
    iso_weekday,
    weekday_name,
    is_weekend,
    is_future
from named
