-- The date the data runs to: the latest 837P submission, 835 payment or patient payment
-- posting, unless the `as_of_date` var sets it. Policy events that have a date of their
-- own (the denial write-off after `denial_writeoff_after_days`) count only up to it.
with

submissions as (

    select max(submission_date) as latest_date from {{ ref('stg_claims_837__claims') }}

),

remittances as (

    select max(payment_date) as latest_date from {{ ref('stg_remits_835__payments') }}

),

patient_payments as (

    select max(posted_date) as latest_date from {{ ref('stg_patient_payments__payments') }}

),

latest as (

    select
        -- greatest() skips nulls (DuckDB, Postgres, Snowflake): a source with no rows yet
        -- does not blank the date
        greatest(
            submissions.latest_date,
            remittances.latest_date,
            patient_payments.latest_date
        ) as latest_activity_date
    from submissions
    cross join remittances
    cross join patient_payments

)

select
    {% if var('as_of_date', none) %}
        cast('{{ var("as_of_date") }}' as date) as as_of_date,
    {% else %}
    latest_activity_date as as_of_date,
    {% endif %}
    latest_activity_date
from latest
