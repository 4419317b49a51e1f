-- Every 835 CAS amount, claim level (loop 2100) and line level (loop 2110), with what it
-- means for the claim's money (X12 835 TR3 CAS; CARC definitions; kpis.md "What is and
-- is not a denial"):
--   contractual: group CO with a contractual CARC (45) or sequestration (253);
--   patient responsibility: group PR, whatever the CARC (PR-204 is also a denial);
--   denial: a CARC our terminology__carc seed marks as a denial (16, 18, 27, 197, ...);
--   prior payer: OA-23 on a secondary payer's remittance (the primary's impact).
with

line_adjustments as (

    select * from {{ ref('stg_remits_835__line_adjustments') }}

),

claim_adjustments as (

    select * from {{ ref('stg_remits_835__claim_adjustments') }}

),

carc as (

    select * from {{ ref('terminology__carc') }}

),

adjustments as (

    select
        remit_line_adjustment_id as remit_adjustment_id,
        remit_claim_id,
        remit_line_id,
        'line' as adjustment_level,
        adjustment_group_code,
        carc_code,
        adjustment_amount,
        adjustment_quantity,
        file_id,
        segment_index,
        adjustment_position
    from line_adjustments

    union all

    select
        remit_claim_adjustment_id as remit_adjustment_id,
        remit_claim_id,
        cast(null as {{ dbt.type_string() }}) as remit_line_id,
        'claim' as adjustment_level,
        adjustment_group_code,
        carc_code,
        adjustment_amount,
        adjustment_quantity,
        file_id,
        segment_index,
        adjustment_position
    from claim_adjustments

)

select
    adjustments.remit_adjustment_id,
    adjustments.remit_claim_id,
    adjustments.remit_line_id,
    adjustments.adjustment_level,
    adjustments.adjustment_group_code,
    adjustments.carc_code,
    adjustments.adjustment_amount,
    adjustments.adjustment_quantity,
    -- the order the amounts appear in the file (CAS segment, then its triplet)
    carc.root_cause,
    carc.is_avoidable,
    adjustments.segment_index * 10 + adjustments.adjustment_position as adjustment_order,
    coalesce(carc.adjustment_category, 'other') as adjustment_category,
    adjustments.adjustment_group_code = 'CO'
    and coalesce(carc.adjustment_category, '') in ('contractual', 'sequestration')
        as is_contractual,
    adjustments.adjustment_group_code = 'PR' as is_patient_responsibility,
    coalesce(carc.is_denial, false) as is_denial,
    coalesce(carc.adjustment_category, '') = 'prior_payer' as is_prior_payer
from adjustments
left join carc
    on adjustments.carc_code = carc.carc_code
