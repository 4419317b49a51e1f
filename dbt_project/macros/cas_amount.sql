{#-
    cas_amount(bucket): the sum of the CAS amounts of one money bucket, over rows of
    int_remit_adjustments_classified (one rule for claim and line totals):
    contractual, patient_responsibility, denied (denial amounts outside group PR),
    prior_payer, or other (none of those).
-#}
{% macro cas_amount(bucket) -%}
    {%- set conditions = {
        'contractual': 'is_contractual',
        'patient_responsibility': 'is_patient_responsibility',
        'denied': 'is_denial and not is_patient_responsibility',
        'prior_payer': 'is_prior_payer',
        'other': 'not (is_contractual or is_patient_responsibility or is_denial or is_prior_payer)',
    } -%}
    sum(case when {{ conditions[bucket] }} then adjustment_amount else 0 end)
{%- endmacro %}
