-- Rule: one denial story (HFMA Claim Integrity Task Force initial denial; our write-off
-- policy). The initial denials of fct_denials (the first adjudication's claim or line
-- denials) are exactly the claims fct_claims marks is_denied_first_pass, and their
-- denial write-offs sum to the claims' denial_writeoff_amount. Checked claim by claim,
-- so the totals (Σ write-offs, count of denied claims) tie too. Returns one row per
-- claim that does not tie.
-- A test of several models: dagster-dbt attaches it to fct_denials as an asset check (so
-- publishing waits for it) through this meta ref.
{{ config(meta={'dagster': {'ref': {'name': 'fct_denials'}}}) }}

with

denials as (

    select * from {{ ref('fct_denials') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

initial_denials as (

    select
        claim_id,
        count(*) as denial_rows,
        sum(denial_writeoff_amount) as denial_writeoff_amount
    from denials
    where is_initial_denial
    group by claim_id

),

denied_claims as (

    select
        claim_id,
        denial_writeoff_amount
    from claims
    where is_denied_first_pass

),

compared as (

    select
        coalesce(denied_claims.claim_id, initial_denials.claim_id) as claim_id,
        denied_claims.claim_id is not null as is_denied_first_pass,
        coalesce(initial_denials.denial_rows, 0) as initial_denial_rows,
        denied_claims.denial_writeoff_amount as claim_writeoff_amount,
        initial_denials.denial_writeoff_amount as denials_writeoff_amount
    from denied_claims
    full outer join initial_denials
        on denied_claims.claim_id = initial_denials.claim_id

),

written_off_elsewhere as (

    -- a claim not denied on first pass writes nothing off
    select
        claim_id,
        false as is_denied_first_pass,
        0 as initial_denial_rows,
        denial_writeoff_amount as claim_writeoff_amount,
        cast(null as decimal(18, 2)) as denials_writeoff_amount
    from claims
    where not coalesce(is_denied_first_pass, false) and denial_writeoff_amount != 0

)

select *
from compared
where
    -- an initial denial on a claim not denied on first pass, or the reverse
    claim_writeoff_amount is null
    or denials_writeoff_amount is null
    or claim_writeoff_amount != denials_writeoff_amount

union all

select * from written_off_elsewhere
