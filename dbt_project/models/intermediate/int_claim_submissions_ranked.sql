-- Every 837P submission of a claim (CLM01), in order, and what kind of submission it is.
-- Frequency codes (CLM05-3, NUBC): 1 original, 7 replacement (corrected claim, REF*F8
-- names the payer's claim it replaces), 8 void. A claim's original submission is its
-- earliest frequency-1 submission to a primary payer (SBR01 = P); a replacement or void
-- is never the original unless it is all the extracts hold. A later frequency-1
-- submission to the same payer is a resend, to another payer a re-bill; SBR01 = S is a
-- secondary claim.
with

submissions as (

    select * from {{ ref('stg_claims_837__claims') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by claim_id
            order by
                case
                    when payer_responsibility_code = 'P' and claim_frequency_code not in ('7', '8')
                        then 0
                    else 1
                end,
                submission_date,
                file_id,
                segment_index
        ) as primary_rank,
        row_number() over (
            partition by claim_id
            order by submission_date, file_id, segment_index
        ) as submission_sequence
    from submissions

),

originals as (

    select
        claim_id,
        payer_id as original_payer_id,
        claim_submission_id as original_submission_id
    from ranked
    where primary_rank = 1

)

select
    ranked.claim_submission_id,
    ranked.claim_id,
    ranked.submission_sequence,
    ranked.payer_id,
    ranked.payer_responsibility_code,
    ranked.claim_frequency_code,
    ranked.original_payer_claim_control_number,
    ranked.submission_date,
    ranked.charge_amount,
    ranked.line_count,
    ranked.file_id,
    ranked.interchange_control_number,
    ranked.claim_submission_id = originals.original_submission_id as is_original,
    case
        when ranked.claim_submission_id = originals.original_submission_id then 'original'
        when ranked.claim_frequency_code = '7' then 'corrected'
        when ranked.claim_frequency_code = '8' then 'void'
        when ranked.payer_responsibility_code <> 'P' then 'secondary'
        when ranked.payer_id = originals.original_payer_id then 'resend'
        else 'rebill'
    end as submission_kind
from ranked
inner join originals
    on ranked.claim_id = originals.claim_id
