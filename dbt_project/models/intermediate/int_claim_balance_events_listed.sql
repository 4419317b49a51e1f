-- Every event that moves a claim's accounts-receivable balance, dated, and who owes it
-- (MGMA/HFMA A/R: what is billed and not yet collected or adjusted off).
--   charge            + charges, on the service date, owed by insurance
--   adjudication      − payer paid − contractual − other adjustments, on the 835
--                     payment date; the patient share (PR) moves from insurance to the
--                     patient, unless the claim is going to a secondary payer (crossover
--                     or secondary claim): then it stays with insurance until the
--                     secondary adjudicates
--   secondary         − paid by the secondary; the patient share it left moves to the
--                     patient
--   denial write-off  − the written-off denial, on the write-off date
--   patient payment   − the payment, on its posting date (refunds add back)
-- Per claim the events sum to its balance (charges − payer paid − contractual − other
-- adjustments − denial write-off − patient paid); transfers between parties sum to zero.
with

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

),

adjudications as (

    select * from {{ ref('int_remit_claims_classified') }}

),

patient_payments as (

    select * from {{ ref('int_patient_payments_applied') }}

),

claim_routes as (

    select
        claim_id,
        service_date,
        first_secondary_date,
        is_crossed_over or has_secondary_adjudication or secondary_submission_count > 0
            as goes_to_secondary,
        primary_patient_responsibility - secondary_paid as patient_share_after_secondary
    from claims

),

charges as (

    select
        claim_id,
        service_date as event_date,
        'charge' as event_type,
        'insurance' as responsible_party,
        charges as amount
    from claims

),

primary_adjudications as (

    select
        adjudications.claim_id,
        adjudications.payment_date as event_date,
        'adjudication' as event_type,
        'insurance' as responsible_party,
        -adjudications.paid_amount
        - adjudications.contractual_amount
        - adjudications.other_adjustment_amount
        - case
            when claim_routes.goes_to_secondary then 0
            else adjudications.patient_responsibility_amount
        end as amount
    from adjudications
    inner join claim_routes
        on adjudications.claim_id = claim_routes.claim_id
    where adjudications.is_primary_payer

    union all

    select
        adjudications.claim_id,
        adjudications.payment_date as event_date,
        'adjudication' as event_type,
        'patient' as responsible_party,
        adjudications.patient_responsibility_amount as amount
    from adjudications
    inner join claim_routes
        on adjudications.claim_id = claim_routes.claim_id
    where
        adjudications.is_primary_payer
        and not claim_routes.goes_to_secondary
        and adjudications.patient_responsibility_amount <> 0

),

secondary_adjudications as (

    select
        claim_id,
        payment_date as event_date,
        'secondary' as event_type,
        'insurance' as responsible_party,
        -paid_amount as amount
    from adjudications
    where not is_primary_payer

    union all

    -- what the secondary left of the patient share moves to the patient, once
    select
        claim_id,
        first_secondary_date as event_date,
        'secondary' as event_type,
        'insurance' as responsible_party,
        -patient_share_after_secondary as amount
    from claim_routes
    where first_secondary_date is not null and patient_share_after_secondary <> 0

    union all

    select
        claim_id,
        first_secondary_date as event_date,
        'secondary' as event_type,
        'patient' as responsible_party,
        patient_share_after_secondary as amount
    from claim_routes
    where first_secondary_date is not null and patient_share_after_secondary <> 0

),

writeoffs as (

    select
        claim_id,
        writeoff_date as event_date,
        'denial_writeoff' as event_type,
        'insurance' as responsible_party,
        -denial_writeoff_amount as amount
    from claims
    where writeoff_date is not null and denial_writeoff_amount <> 0

),

patient_paid as (

    select
        claim_id,
        posted_date as event_date,
        'patient_payment' as event_type,
        'patient' as responsible_party,
        -payment_amount as amount
    from patient_payments
    where is_applied_to_claim

),

events as (

    select * from charges
    union all
    select * from primary_adjudications
    union all
    select * from secondary_adjudications
    union all
    select * from writeoffs
    union all
    select * from patient_paid

)

select
    events.claim_id,
    events.event_date,
    events.event_type,
    events.responsible_party,
    events.amount,
    claim_routes.service_date
from events
inner join claim_routes
    on events.claim_id = claim_routes.claim_id
where events.amount <> 0
