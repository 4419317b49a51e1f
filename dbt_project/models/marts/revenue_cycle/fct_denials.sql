-- One row per denial: a claim denied by an 835 (CLP02 = 4) or a line denied inside a paid
-- claim (a denial CARC on the line), at any adjudication. Denial rules (kpis.md "What is
-- and is not a denial"; CARC definitions): contractual (CO-45), patient share (PR-1/2/3),
-- sequestration (CO-253) and prior payer (OA-23) are not denials. Root cause and
-- avoidability come from the terminology__carc seed (our categories, overridable).
-- Outcome: overturned (a later primary adjudication paid), patient responsibility (all of
-- it group PR), written off (no success within `denial_writeoff_after_days`, up to the as-of
-- date), open; a resend denied as a duplicate (CARC 18) is closed as a duplicate.
with

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

),

adjudications as (

    select * from {{ ref('int_remit_claims_classified') }}

),

adjustments as (

    select * from {{ ref('int_remit_adjustments_classified') }}

),

remit_lines as (

    select * from {{ ref('int_remit_lines_matched') }}

),

remarks as (

    select * from {{ ref('stg_remits_835__remarks') }}

),

carc as (

    select * from {{ ref('terminology__carc') }}

),

denied_adjudications as (

    select *
    from adjudications
    where adjudication_kind in ('claim_denied', 'duplicate_denied', 'line_denied')

),

denial_cas as (

    -- claim denials: every denial amount of the CLP; line denials: per denied line
    select
        denied_adjudications.remit_claim_id,
        adjustments.adjustment_group_code,
        adjustments.carc_code,
        adjustments.adjustment_amount,
        adjustments.adjustment_order,
        adjustments.is_patient_responsibility,
        case
            when denied_adjudications.adjudication_kind = 'line_denied'
                then adjustments.remit_line_id
            else denied_adjudications.remit_claim_id
        end as denial_id,
        case
            when denied_adjudications.adjudication_kind = 'line_denied'
                then adjustments.remit_line_id
        end as remit_line_id,
        case
            when denied_adjudications.adjudication_kind = 'line_denied' then 'line'
            else 'claim'
        end as denial_level
    from denied_adjudications
    inner join adjustments
        on denied_adjudications.remit_claim_id = adjustments.remit_claim_id
    where adjustments.is_denial

),

denial_amounts as (

    select
        denial_id,
        remit_claim_id,
        remit_line_id,
        denial_level,
        {{ value_at_min('adjustment_group_code', 'adjustment_order') }} as adjustment_group_code,
        {{ value_at_min('carc_code', 'adjustment_order') }} as carc_code,
        sum(adjustment_amount) as amount_at_stake,
        sum(case when is_patient_responsibility then 0 else adjustment_amount end)
            as payer_denied_amount,
        bool_and(is_patient_responsibility) as is_patient_responsibility
    from denial_cas
    group by denial_id, remit_claim_id, remit_line_id, denial_level

),

remark_codes as (

    select
        denial_amounts.denial_id,
        string_agg(
            distinct remarks.remark_code, ','
            order by remarks.remark_code
        ) as rarc_codes
    from denial_amounts
    inner join remarks
        on
            denial_amounts.remit_claim_id = remarks.remit_claim_id
            and (
                remarks.remark_level = 'claim'
                or denial_amounts.remit_line_id is null
                or denial_amounts.remit_line_id = remarks.remit_line_id
            )
    group by denial_amounts.denial_id

),

later_paid as (

    select
        denied_adjudications.remit_claim_id,
        min(adjudications.payment_date) as paid_date
    from denied_adjudications
    inner join adjudications
        on
            denied_adjudications.claim_id = adjudications.claim_id
            and denied_adjudications.adjudication_sequence < adjudications.adjudication_sequence
    where adjudications.adjudication_kind = 'paid' and adjudications.paid_amount > 0
    group by denied_adjudications.remit_claim_id

),

denials as (

    select
        denial_amounts.denial_id,
        denied_adjudications.claim_id,
        denial_amounts.remit_claim_id,
        denial_amounts.remit_line_id,
        remit_lines.line_number,
        denial_amounts.denial_level,
        denied_adjudications.adjudication_sequence = claims.first_adjudication_sequence
            as is_initial_denial,
        denied_adjudications.adjudication_kind = 'duplicate_denied' as is_duplicate,
        denied_adjudications.payer_id,
        claims.payer_class,
        claims.provider_npi,
        claims.location_id,
        claims.patient_id,
        denial_amounts.adjustment_group_code,
        denial_amounts.carc_code,
        carc.description as carc_description,
        remark_codes.rarc_codes,
        coalesce(carc.root_cause, 'unclassified') as root_cause,
        coalesce(carc.root_cause_label, 'Unclassified') as root_cause_label,
        coalesce(carc.is_avoidable, false) as is_avoidable,
        coalesce(carc.avoidability, 'unknown') as avoidability,
        denial_amounts.amount_at_stake,
        denial_amounts.payer_denied_amount,
        denial_amounts.is_patient_responsibility,
        claims.service_date,
        denied_adjudications.payment_date as denial_date,
        later_paid.paid_date as overturned_date,
        {{ denial_writeoff_date('denied_adjudications.payment_date') }}
            as policy_writeoff_date,
        claims.as_of_date
    from denial_amounts
    inner join denied_adjudications
        on denial_amounts.remit_claim_id = denied_adjudications.remit_claim_id
    inner join claims
        on denied_adjudications.claim_id = claims.claim_id
    left join remit_lines
        on denial_amounts.remit_line_id = remit_lines.remit_line_id
    left join carc
        on denial_amounts.carc_code = carc.carc_code
    left join remark_codes
        on denial_amounts.denial_id = remark_codes.denial_id
    left join later_paid
        on denial_amounts.remit_claim_id = later_paid.remit_claim_id

),

outcomes as (

    select
        *,
        case
            when is_duplicate then 'closed_duplicate'
            else {{ denial_outcome(
                'overturned_date is not null',
                'is_patient_responsibility',
                'policy_writeoff_date',
                'as_of_date'
            ) }}
        end as denial_outcome
    from denials

)

select
    -- ids
    denial_id,
    claim_id,
    remit_claim_id,
    remit_line_id,
    cast(line_number as integer) as line_number,
    payer_id,
    payer_class,
    provider_npi,
    location_id,
    patient_id,

    -- classification
    denial_level,
    is_initial_denial,
    is_duplicate,
    adjustment_group_code,
    carc_code,
    carc_description,
    rarc_codes,
    root_cause,
    root_cause_label,
    is_avoidable,
    avoidability,
    denial_outcome,

    -- amounts
    cast(amount_at_stake as decimal(18, 2)) as amount_at_stake,
    cast(
        case when denial_outcome = 'written_off' then payer_denied_amount else 0 end
        as decimal(18, 2)
    ) as denial_writeoff_amount,

    -- dates
    service_date,
    denial_date,
    cast({{ dbt.date_trunc('month', 'denial_date') }} as date) as denial_month,
    case
        when denial_outcome = 'overturned' then overturned_date
        when denial_outcome = 'written_off' then policy_writeoff_date
    end as resolved_date
from outcomes
