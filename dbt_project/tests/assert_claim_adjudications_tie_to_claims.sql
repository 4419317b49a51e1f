-- Rule: every 835 adjudication of a claim is in its money (reversals carry negated
-- amounts, so plain sums net them). Per claim, fct_claim_adjudications' rows number
-- fct_claims.adjudication_count, their CLP04 sum to payer_paid (the secondary payers'
-- to secondary_paid), their contractual CAS to contractual_amount, and the claim's first
-- adjudication is its one is_first_adjudication row, dated first_adjudication_date.
-- Returns one row per claim that does not tie.
-- A test of several models: dagster-dbt attaches it to fct_claim_adjudications as an
-- asset check (so publishing waits for it) through this meta ref.
{{ config(meta={'dagster': {'ref': {'name': 'fct_claim_adjudications'}}}) }}

with

adjudications as (

    select * from {{ ref('fct_claim_adjudications') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

adjudication_totals as (

    select
        claim_id,
        count(*) as adjudication_count,
        sum(paid_amount) as paid_amount,
        sum(case when adjudication_kind = 'secondary' then paid_amount else 0 end)
            as secondary_paid,
        sum(contractual_amount) as contractual_amount,
        count(case when is_first_adjudication then 1 end) as first_adjudications,
        max(case when is_first_adjudication then payment_date end) as first_adjudication_date
    from adjudications
    group by claim_id

),

compared as (

    select
        claims.claim_id,
        adjudication_totals.claim_id as adjudications_claim_id,
        claims.adjudication_count,
        claims.payer_paid,
        claims.secondary_paid,
        claims.contractual_amount,
        claims.first_adjudication_date,
        adjudication_totals.first_adjudication_date as adjudications_first_date,
        coalesce(adjudication_totals.adjudication_count, 0) as adjudications_listed,
        coalesce(adjudication_totals.paid_amount, 0) as adjudications_paid,
        coalesce(adjudication_totals.secondary_paid, 0) as adjudications_secondary_paid,
        coalesce(adjudication_totals.contractual_amount, 0) as adjudications_contractual,
        coalesce(adjudication_totals.first_adjudications, 0) as first_adjudications
    from claims
    full outer join adjudication_totals
        on claims.claim_id = adjudication_totals.claim_id

)

select *
from compared
where
    -- adjudications of a claim fct_claims does not have
    claim_id is null
    or adjudication_count != adjudications_listed
    or payer_paid != adjudications_paid
    or secondary_paid != adjudications_secondary_paid
    or contractual_amount != adjudications_contractual
    or first_adjudications != case when first_adjudication_date is null then 0 else 1 end
    or first_adjudication_date != adjudications_first_date
