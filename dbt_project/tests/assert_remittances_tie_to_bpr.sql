-- Rule: X12 835 transaction balancing (TR3 005010X221A1): BPR02, the remittance's total
-- payment, = Σ CLP04 claim payments − Σ PLB provider adjustments. fct_payments holds
-- each CLP04 as a payer row and each PLB amount with its sign turned (interest paid on
-- top, recoupments withheld), so per 835 remittance the payer rows sum to BPR02. Returns
-- one row per remittance that does not tie (one with no payer rows counts as $0).
-- A test of several models: dagster-dbt attaches it to fct_payments as an asset check (so
-- publishing waits for it) through this meta ref.
{{ config(meta={'dagster': {'ref': {'name': 'fct_payments'}}}) }}

with

remittances as (

    select * from {{ ref('stg_remits_835__payments') }}

),

payments as (

    select * from {{ ref('fct_payments') }}

),

payer_totals as (

    select
        remittance_id,
        count(*) as payment_rows,
        sum(amount) as amount
    from payments
    where payment_source = 'payer'
    group by remittance_id

),

compared as (

    select
        remittances.remittance_id,
        payer_totals.remittance_id as payments_remittance_id,
        remittances.trace_number,
        remittances.payment_amount as bpr02_payment_amount,
        coalesce(payer_totals.payment_rows, 0) as payment_rows,
        coalesce(payer_totals.amount, 0) as payer_rows_amount
    from remittances
    full outer join payer_totals
        on remittances.remittance_id = payer_totals.remittance_id

)

select *
from compared
where
    -- payer rows of a remittance the 835s do not have
    remittance_id is null
    or bpr02_payment_amount != payer_rows_amount
