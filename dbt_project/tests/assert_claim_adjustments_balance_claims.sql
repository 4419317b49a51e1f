-- Rule: X12 835 claim balancing (TR3 005010X221A1; positive adjustments reduce payment):
-- CLP03 − Σ CAS (claim level and its lines) = CLP04. Per claim payment of
-- fct_claim_adjudications, the amounts of fct_claim_adjustments take its charges to its
-- paid amount, and their contractual and denial classes sum to its contractual and
-- denied amounts (the buckets of cas_amount), so no CAS amount is lost or counted twice.
-- Returns one row per CLP that does not balance.
-- A test of several models: dagster-dbt attaches it to fct_claim_adjustments as an asset
-- check (so publishing waits for it) through this meta ref.
{{ config(meta={'dagster': {'ref': {'name': 'fct_claim_adjustments'}}}) }}

with

adjudications as (

    select * from {{ ref('fct_claim_adjudications') }}

),

adjustments as (

    select * from {{ ref('fct_claim_adjustments') }}

),

adjustment_totals as (

    select
        remit_claim_id,
        sum(adjustment_amount) as adjustment_amount,
        sum(case when adjustment_class = 'contractual' then adjustment_amount else 0 end)
            as contractual_amount,
        sum(case when adjustment_class = 'denial' then adjustment_amount else 0 end)
            as denied_amount
    from adjustments
    group by remit_claim_id

),

compared as (

    select
        adjudications.remit_claim_id,
        adjustment_totals.remit_claim_id as adjustments_remit_claim_id,
        adjudications.charges,
        adjudications.paid_amount,
        adjudications.contractual_amount,
        adjudications.denied_amount,
        coalesce(adjustment_totals.adjustment_amount, 0) as cas_amount,
        coalesce(adjustment_totals.contractual_amount, 0) as cas_contractual_amount,
        coalesce(adjustment_totals.denied_amount, 0) as cas_denied_amount
    from adjudications
    full outer join adjustment_totals
        on adjudications.remit_claim_id = adjustment_totals.remit_claim_id

)

select *
from compared
where
    -- amounts of a claim payment fct_claim_adjudications does not have
    remit_claim_id is null
    or charges - cas_amount != paid_amount
    or contractual_amount != cas_contractual_amount
    or denied_amount != cas_denied_amount
