-- The claim lifecycle: one row per claim (CLM01) with every 837P submission and 835
-- adjudication folded in. Rules and sources:
--   * The first adjudication is the first primary decision (CLP02 1/19 paid or line
--     denied, or 4 denied) in payment order; a resend denied as a duplicate (CARC 18), a
--     reversal (CLP02 22) or a secondary payer's decision is never the first.
--   * Denied on first pass (HFMA Claim Integrity Task Force initial denial): the first
--     adjudication denied the claim or a line. Its outcome: overturned when a later primary
--     adjudication paid (corrected claim, appeal or re-bill); patient responsibility when
--     the denial's group is PR (PR-204: the patient may be billed); written off when
--     neither happened within `denial_writeoff_after_days` of the denial's payment date
--     and that date is on or before the as-of date; otherwise still open.
--   * Reversals (CLP02 22) carry negated amounts, so plain sums net them against what
--     they reverse.
--   * Money identity (checked by a singular test): charges = payer paid + contractual +
--     other adjustments + denial write-off + patient paid + balance, where contractual =
--     CO-45 + CO-253 (sequestration) and other adjustments are CAS amounts that are not
--     contractual, patient share, denial or prior payer (none in generated data); the
--     patient share = the primary payers' PR less what a secondary paid.
--   * Patient: the medical record number on the original 837P (2300 REF*EA), else the
--     visit's appointment (its encounter id is CLM01), else the patient whose member key,
--     birth date and sex match the claim's on the roster or on a billed visit (only when
--     exactly one does). Location: the appointment's, else the one whose service
--     facility (837P loop 2310C NPI) the claim names (services without a visit, e.g. CCM).
--   * Clean claim (kpis.md proxy, no scrubber data): paid on the first adjudication of
--     the original submission. First-pass resolution: that, and never reversed.
with

submissions as (

    select * from {{ ref('int_claim_submissions_ranked') }}

),

submission_lines as (

    select * from {{ ref('stg_claims_837__service_lines') }}

),

original_837 as (

    select * from {{ ref('stg_claims_837__claims') }}

),

adjudications as (

    select * from {{ ref('int_remit_claims_classified') }}

),

adjustments as (

    select * from {{ ref('int_remit_adjustments_classified') }}

),

remarks as (

    select * from {{ ref('stg_remits_835__remarks') }}

),

patient_payments as (

    select * from {{ ref('int_patient_payments_applied') }}

),

appointments as (

    select * from {{ ref('stg_scheduling__appointments') }}

),

roster as (

    select * from {{ ref('stg_scheduling__patients') }}

),

payer_classes as (

    select * from {{ ref('terminology__payer_classes') }}

),

as_of as (

    select * from {{ ref('int_as_of_date_derived') }}

),

originals as (

    select
        submissions.claim_id,
        submissions.claim_submission_id,
        submissions.payer_id,
        submissions.submission_date,
        submissions.charge_amount,
        original_837.rendering_provider_npi,
        original_837.place_of_service_code,
        original_837.service_facility_npi,
        original_837.patient_id as medical_record_number,
        original_837.member_key,
        original_837.patient_birth_date,
        original_837.patient_sex_code
    from submissions
    inner join original_837
        on submissions.claim_submission_id = original_837.claim_submission_id
    where submissions.is_original

),

original_lines as (

    select
        originals.claim_id,
        min(submission_lines.service_from_date) as service_date,
        count(*) as line_count,
        sum(submission_lines.charge_amount) as line_charges
    from submission_lines
    inner join originals
        on submission_lines.claim_submission_id = originals.claim_submission_id
    group by originals.claim_id

),

submission_summary as (

    select
        claim_id,
        count(*) as submission_count,
        count(case when submission_kind = 'corrected' then 1 end) as corrected_count,
        count(case when submission_kind = 'void' then 1 end) as void_count,
        count(case when submission_kind = 'resend' then 1 end) as resend_count,
        count(case when submission_kind = 'rebill' then 1 end) as rebill_count,
        count(case when submission_kind = 'secondary' then 1 end) as secondary_submission_count
    from submissions
    group by claim_id

),

visit as (

    select
        encounter_id as claim_id,
        min(patient_id) as patient_id,
        min(location_id) as location_id
    from appointments
    where encounter_id is not null
    group by encounter_id

),

roster_members as (

    select distinct
        patient_id,
        primary_member_key as member_key,
        birth_date,
        sex_code
    from roster
    where primary_member_key is not null
    union
    select distinct
        patient_id,
        secondary_member_key as member_key,
        birth_date,
        sex_code
    from roster
    where secondary_member_key is not null
    union
    -- coverage the roster no longer shows: the patient's visits billed under it
    select distinct
        visit.patient_id,
        originals.member_key,
        originals.patient_birth_date as birth_date,
        originals.patient_sex_code as sex_code
    from originals
    inner join visit
        on originals.claim_id = visit.claim_id
    where originals.member_key is not null

),

member_matches as (

    select
        originals.claim_id,
        min(roster_members.patient_id) as patient_id
    from originals
    inner join roster_members
        on
            originals.member_key = roster_members.member_key
            and originals.patient_birth_date = roster_members.birth_date
            and originals.patient_sex_code = roster_members.sex_code
    group by originals.claim_id
    having count(distinct roster_members.patient_id) = 1

),

facility_visit_counts as (

    select
        originals.service_facility_npi,
        visit.location_id,
        count(*) as visit_count
    from originals
    inner join visit
        on originals.claim_id = visit.claim_id
    group by originals.service_facility_npi, visit.location_id

),

facility_locations as (

    -- each service facility NPI's location: where its billed visits were booked
    select
        service_facility_npi,
        {{ value_at_max('location_id', 'visit_count') }} as location_id
    from facility_visit_counts
    group by service_facility_npi

),

first_decision as (

    select
        claim_id,
        min(adjudication_sequence) as adjudication_sequence
    from adjudications
    where is_primary_decision
    group by claim_id

),

first_adjudication as (

    select adjudications.*
    from adjudications
    inner join first_decision
        on
            adjudications.claim_id = first_decision.claim_id
            and adjudications.adjudication_sequence = first_decision.adjudication_sequence

),

first_denial_reason as (

    -- the first denial CAS of the first adjudication: its group, CARC and root cause
    select
        first_adjudication.claim_id,
        {{ value_at_min('adjustments.adjustment_group_code', 'adjustments.adjustment_order') }}
            as denial_group_code,
        {{ value_at_min('adjustments.carc_code', 'adjustments.adjustment_order') }}
            as denial_carc_code,
        {{ value_at_min('adjustments.root_cause', 'adjustments.adjustment_order') }}
            as denial_root_cause,
        -- all of it billed to the patient (PR); a mixed denial still has a payer part to work
        bool_and(adjustments.is_patient_responsibility) as is_patient_responsibility_denial
    from first_adjudication
    inner join adjustments
        on first_adjudication.remit_claim_id = adjustments.remit_claim_id
    where adjustments.is_denial
    group by first_adjudication.claim_id

),

first_denial_remarks as (

    select
        first_adjudication.claim_id,
        string_agg(
            distinct remarks.remark_code, ','
            order by remarks.remark_code
        ) as denial_rarc_codes
    from first_adjudication
    inner join remarks
        on first_adjudication.remit_claim_id = remarks.remit_claim_id
    where first_adjudication.adjudication_kind in ('claim_denied', 'line_denied')
    group by first_adjudication.claim_id

),

later_paid as (

    select adjudications.claim_id
    from adjudications
    inner join first_decision
        on adjudications.claim_id = first_decision.claim_id
    where
        adjudications.adjudication_sequence > first_decision.adjudication_sequence
        and adjudications.adjudication_kind = 'paid'
        and adjudications.paid_amount > 0
    group by adjudications.claim_id

),

money as (

    select
        claim_id,
        sum(paid_amount) as payer_paid,
        sum(case when is_primary_payer then paid_amount else 0 end) as primary_paid,
        sum(case when not is_primary_payer then paid_amount else 0 end) as secondary_paid,
        sum(allowed_amount) as allowed_amount,
        sum(contractual_amount) as contractual_amount,
        sum(other_adjustment_amount) as other_adjustment_amount,
        sum(case when is_primary_payer then patient_responsibility_amount else 0 end)
            as primary_patient_responsibility,
        min(case when paid_amount > 0 then payment_date end) as first_payment_date,
        min(case when not is_primary_payer then payment_date end) as first_secondary_date,
        bool_or(adjudication_kind = 'reversal') as is_reversed,
        bool_or(forwarded_to_secondary) as is_crossed_over,
        bool_or(not is_primary_payer) as has_secondary_adjudication,
        {{ value_at_max('case when is_primary_decision then payer_id end',
                        'case when is_primary_decision then adjudication_sequence end') }}
            as final_payer_id,
        count(*) as adjudication_count
    from adjudications
    group by claim_id

),

patient_paid as (

    select
        claim_id,
        sum(payment_amount) as patient_paid
    from patient_payments
    where is_applied_to_claim
    group by claim_id

),

lifecycle as (

    select
        originals.claim_id,
        coalesce(
            originals.medical_record_number, visit.patient_id, member_matches.patient_id
        ) as patient_id,
        originals.rendering_provider_npi as provider_npi,
        coalesce(visit.location_id, facility_locations.location_id) as location_id,
        originals.payer_id,
        coalesce(payer_classes.payer_class, 'unknown') as payer_class,
        money.final_payer_id,
        originals.place_of_service_code,
        original_lines.service_date,
        originals.submission_date,
        first_adjudication.payment_date as first_adjudication_date,
        money.first_payment_date,
        money.first_secondary_date,
        original_lines.line_count,
        original_lines.line_charges as charges,
        coalesce(money.allowed_amount, 0) as allowed_amount,
        coalesce(money.primary_paid, 0) as primary_paid,
        coalesce(money.secondary_paid, 0) as secondary_paid,
        coalesce(money.payer_paid, 0) as payer_paid,
        coalesce(money.contractual_amount, 0) as contractual_amount,
        coalesce(money.other_adjustment_amount, 0) as other_adjustment_amount,
        coalesce(money.primary_patient_responsibility, 0) as primary_patient_responsibility,
        coalesce(patient_paid.patient_paid, 0) as patient_paid,
        first_adjudication.adjudication_kind as first_adjudication_kind,
        first_adjudication.adjudication_sequence as first_adjudication_sequence,
        first_adjudication.adjudication_kind in ('claim_denied', 'line_denied')
            as is_denied_first_pass,
        case
            when first_adjudication.adjudication_kind = 'claim_denied' then 'claim'
            when first_adjudication.adjudication_kind = 'line_denied' then 'line'
        end as denial_level,
        case
            when first_adjudication.adjudication_kind in ('claim_denied', 'line_denied')
                then first_adjudication.denied_amount
            else 0
        end as denied_amount,
        first_denial_reason.denial_group_code,
        first_denial_reason.denial_carc_code,
        first_denial_remarks.denial_rarc_codes,
        first_denial_reason.denial_root_cause,
        coalesce(first_denial_reason.is_patient_responsibility_denial, false)
            as is_patient_responsibility_denial,
        later_paid.claim_id is not null as is_paid_after_first_adjudication,
        {{ denial_writeoff_date('first_adjudication.payment_date') }}
            as policy_writeoff_date,
        coalesce(money.is_reversed, false) as is_reversed,
        coalesce(money.is_crossed_over, false) as is_crossed_over,
        coalesce(money.has_secondary_adjudication, false) as has_secondary_adjudication,
        coalesce(money.adjudication_count, 0) as adjudication_count,
        submission_summary.submission_count,
        submission_summary.corrected_count,
        submission_summary.void_count,
        submission_summary.resend_count,
        submission_summary.rebill_count,
        submission_summary.secondary_submission_count,
        as_of.as_of_date
    from originals
    inner join original_lines
        on originals.claim_id = original_lines.claim_id
    inner join submission_summary
        on originals.claim_id = submission_summary.claim_id
    cross join as_of
    left join visit
        on originals.claim_id = visit.claim_id
    left join member_matches
        on originals.claim_id = member_matches.claim_id
    left join facility_locations
        on originals.service_facility_npi = facility_locations.service_facility_npi
    left join payer_classes
        on originals.payer_id = payer_classes.payer_id
    left join money
        on originals.claim_id = money.claim_id
    left join first_adjudication
        on originals.claim_id = first_adjudication.claim_id
    left join first_denial_reason
        on originals.claim_id = first_denial_reason.claim_id
    left join first_denial_remarks
        on originals.claim_id = first_denial_remarks.claim_id
    left join later_paid
        on originals.claim_id = later_paid.claim_id
    left join patient_paid
        on originals.claim_id = patient_paid.claim_id

),

outcomes as (

    select
        *,
        case
            when coalesce(is_denied_first_pass, false)
                then {{ denial_outcome(
                    'is_paid_after_first_adjudication',
                    'is_patient_responsibility_denial',
                    'policy_writeoff_date',
                    'as_of_date'
                ) }}
        end as denial_outcome
    from lifecycle

),

balances as (

    select
        *,
        case when denial_outcome = 'written_off' then policy_writeoff_date end as writeoff_date,
        case when denial_outcome = 'written_off' then denied_amount else 0 end
            as denial_writeoff_amount,
        primary_patient_responsibility - secondary_paid as patient_responsibility
    from outcomes

)

select
    *,
    charges - payer_paid - contractual_amount - other_adjustment_amount
    - denial_writeoff_amount - patient_paid as balance,
    case
        when first_adjudication_kind is null then 'pending'
        when denial_outcome = 'open' then 'denied'
        when denial_outcome = 'written_off' and payer_paid = 0 then 'written_off'
        when
            charges - payer_paid - contractual_amount - other_adjustment_amount
            - denial_writeoff_amount - patient_paid > 0
            then 'patient_balance'
        else 'paid'
    end as claim_status,
    first_adjudication_kind = 'paid' as is_paid_first_pass,
    first_adjudication_kind = 'paid' as is_clean_claim,
    first_adjudication_kind = 'paid' and not is_reversed as is_first_pass_resolved,
    {{ days_between('service_date', 'submission_date') }} as charge_lag_days,
    {{ days_between('submission_date', 'first_payment_date') }} as days_to_payment
from balances
