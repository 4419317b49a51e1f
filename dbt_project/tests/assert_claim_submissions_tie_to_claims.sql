-- Rule: one claim lifecycle (int_claim_submissions_ranked: a claim's original is its
-- earliest frequency-1 submission to a primary payer). Per claim, fct_claim_submissions
-- has exactly one original, whose payer, submission date and CLM02 charges are
-- fct_claims' payer_id, submission_date and charges (CLM02 = Σ SV102, checked at load),
-- and its submissions of each kind number what fct_claims counts. Returns one row per
-- claim that does not tie.
-- A test of several models: dagster-dbt attaches it to fct_claim_submissions as an asset
-- check (so publishing waits for it) through this meta ref.
{{ config(meta={'dagster': {'ref': {'name': 'fct_claim_submissions'}}}) }}

with

submissions as (

    select * from {{ ref('fct_claim_submissions') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

submission_totals as (

    select
        claim_id,
        count(*) as submission_count,
        count(case when is_original then 1 end) as original_count,
        count(case when submission_kind = 'corrected' then 1 end) as corrected_count,
        count(case when submission_kind = 'void' then 1 end) as void_count,
        count(case when submission_kind = 'resend' then 1 end) as resend_count,
        count(case when submission_kind = 'rebill' then 1 end) as rebill_count,
        count(case when submission_kind = 'secondary' then 1 end)
            as secondary_submission_count,
        max(case when is_original then payer_id end) as original_payer_id,
        max(case when is_original then submission_date end) as original_submission_date,
        max(case when is_original then charges end) as original_charges
    from submissions
    group by claim_id

),

compared as (

    select
        claims.claim_id,
        submission_totals.claim_id as submissions_claim_id,
        submission_totals.original_count,
        claims.submission_count,
        submission_totals.submission_count as submissions_listed,
        claims.corrected_count,
        submission_totals.corrected_count as corrected_listed,
        claims.void_count,
        submission_totals.void_count as void_listed,
        claims.resend_count,
        submission_totals.resend_count as resend_listed,
        claims.rebill_count,
        submission_totals.rebill_count as rebill_listed,
        claims.secondary_submission_count,
        submission_totals.secondary_submission_count as secondary_listed,
        claims.payer_id,
        submission_totals.original_payer_id,
        claims.submission_date,
        submission_totals.original_submission_date,
        claims.charges,
        submission_totals.original_charges
    from claims
    full outer join submission_totals
        on claims.claim_id = submission_totals.claim_id

)

select *
from compared
where
    -- submissions of a claim fct_claims does not have, or a claim with none
    claim_id is null
    or submissions_claim_id is null
    or original_count != 1
    or submission_count != submissions_listed
    or corrected_count != corrected_listed
    or void_count != void_listed
    or resend_count != resend_listed
    or rebill_count != rebill_listed
    or secondary_submission_count != secondary_listed
    or payer_id != original_payer_id
    or submission_date != original_submission_date
    or charges != original_charges
