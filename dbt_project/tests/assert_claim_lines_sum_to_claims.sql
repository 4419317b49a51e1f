-- Rule: a claim's lines carry all of its money. Per claim, the lines of fct_claim_lines
-- (the original 837P's lines with what every 835 adjudication paid on them, matched by
-- REF*6R) sum to fct_claims' charges, allowed amount, payer paid, contractual amount and
-- patient responsibility, and the claim's line_count is its number of lines
-- (fct_claim_lines header). Returns one row per claim that does not tie.
-- A test of several models: dagster-dbt attaches it to fct_claim_lines as an asset check (so
-- publishing waits for it) through this meta ref.
{{ config(meta={'dagster': {'ref': {'name': 'fct_claim_lines'}}}) }}

with

claims as (

    select * from {{ ref('fct_claims') }}

),

claim_lines as (

    select * from {{ ref('fct_claim_lines') }}

),

line_totals as (

    select
        claim_id,
        count(*) as line_count,
        sum(charges) as charges,
        sum(allowed_amount) as allowed_amount,
        sum(payer_paid) as payer_paid,
        sum(contractual_amount) as contractual_amount,
        sum(patient_responsibility) as patient_responsibility
    from claim_lines
    group by claim_id

),

compared as (

    select
        claims.claim_id,
        line_totals.claim_id as lines_claim_id,
        claims.line_count as claim_line_count,
        claims.charges as claim_charges,
        line_totals.charges as line_charges,
        claims.allowed_amount as claim_allowed_amount,
        line_totals.allowed_amount as line_allowed_amount,
        claims.payer_paid as claim_payer_paid,
        line_totals.payer_paid as line_payer_paid,
        claims.contractual_amount as claim_contractual_amount,
        line_totals.contractual_amount as line_contractual_amount,
        claims.patient_responsibility as claim_patient_responsibility,
        line_totals.patient_responsibility as line_patient_responsibility,
        coalesce(line_totals.line_count, 0) as lines_listed
    from claims
    full outer join line_totals
        on claims.claim_id = line_totals.claim_id

)

select *
from compared
where
    -- lines of a claim fct_claims does not have
    claim_id is null
    or claim_line_count != lines_listed
    or claim_charges != coalesce(line_charges, 0)
    or claim_allowed_amount != coalesce(line_allowed_amount, 0)
    or claim_payer_paid != coalesce(line_payer_paid, 0)
    or claim_contractual_amount != coalesce(line_contractual_amount, 0)
    or claim_patient_responsibility != coalesce(line_patient_responsibility, 0)
