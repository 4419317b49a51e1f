-- One row per 835 CAS amount of a claim's adjudication, claim level (loop 2100) or line
-- level (loop 2110), with what it did to the claim's money (X12 835 TR3 CAS; CARC
-- definitions; kpis.md "What is and is not a denial"): its class is the bucket the claim
-- and line totals put it in (macro cas_class, the rule of cas_amount): contractual
-- (CO-45, CO-253), patient_responsibility (group PR), denial (a denial CARC outside group
-- PR), prior_payer (OA-23) or other. Per CLP the amounts balance the claim payment
-- (X12 835: CLP03 − Σ CAS = CLP04; singular test assert_claim_adjustments_balance_claims).
-- Remark codes as fct_denials lists them: a line's amounts carry the claim-level remarks
-- (MOA/MIA) and that line's LQ; a claim-level amount every remark of its CLP.
with

adjustments as (

    select * from {{ ref('int_remit_adjustments_classified') }}

),

adjudications as (

    select * from {{ ref('int_remit_claims_classified') }}

),

claims as (

    select * from {{ ref('int_claims_adjudicated') }}

),

remit_lines as (

    select * from {{ ref('int_remit_lines_matched') }}

),

service_lines as (

    select * from {{ ref('stg_remits_835__service_lines') }}

),

remarks as (

    select * from {{ ref('stg_remits_835__remarks') }}

),

carc as (

    select * from {{ ref('terminology__carc') }}

),

classified as (

    select
        *,
        {{ cas_class() }} as adjustment_class
    from adjustments

),

remark_codes as (

    select
        adjustments.remit_adjustment_id,
        string_agg(
            distinct remarks.remark_code, ','
            order by remarks.remark_code
        ) as rarc_codes
    from adjustments
    inner join remarks
        on
            adjustments.remit_claim_id = remarks.remit_claim_id
            and (
                remarks.remark_level = 'claim'
                or adjustments.remit_line_id is null
                or adjustments.remit_line_id = remarks.remit_line_id
            )
    group by adjustments.remit_adjustment_id

)

select
    -- ids
    classified.remit_adjustment_id as claim_adjustment_id,
    classified.remit_claim_id,
    classified.remit_line_id,
    adjudications.claim_id,
    cast(remit_lines.line_number as integer) as line_number,
    service_lines.procedure_code,
    adjudications.payer_id,

    -- classification
    classified.adjustment_level,
    classified.adjustment_group_code,
    classified.carc_code,
    carc.description as carc_description,
    classified.adjustment_class,
    remark_codes.rarc_codes,

    -- amounts
    cast(classified.adjustment_amount as decimal(18, 2)) as adjustment_amount,
    cast(classified.adjustment_quantity as decimal(15, 3)) as adjustment_quantity,

    -- dates
    adjudications.payment_date
from classified
inner join adjudications
    on classified.remit_claim_id = adjudications.remit_claim_id
inner join claims
    on adjudications.claim_id = claims.claim_id
left join remit_lines
    on classified.remit_line_id = remit_lines.remit_line_id
left join service_lines
    on classified.remit_line_id = service_lines.remit_line_id
left join carc
    on classified.carc_code = carc.carc_code
left join remark_codes
    on classified.remit_adjustment_id = remark_codes.remit_adjustment_id
