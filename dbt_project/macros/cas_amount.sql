{#-
    cas_amount(bucket) and cas_class(): the money bucket of a CAS amount, over rows of
    int_remit_adjustments_classified (one rule for the claim and line totals and for
    fct_claim_adjustments): contractual, patient_responsibility, denial (denial amounts
    outside group PR), prior_payer, or other (none of those). cas_amount sums one bucket;
    cas_class names a row's bucket, the first in that order whose condition holds. The
    seed's CARC categories make the conditions exclusive (only a PR amount with the
    prior-payer CARC 23 would meet two), so the classes add up to the bucket sums.
-#}
{% macro cas_buckets() -%}
    {{ return({
        'contractual': 'is_contractual',
        'patient_responsibility': 'is_patient_responsibility',
        'denial': 'is_denial and not is_patient_responsibility',
        'prior_payer': 'is_prior_payer',
        'other': 'not (is_contractual or is_patient_responsibility or is_denial or is_prior_payer)',
    }) }}
{%- endmacro %}

{% macro cas_amount(bucket) -%}
    sum(case when {{ cas_buckets()[bucket] }} then adjustment_amount else 0 end)
{%- endmacro %}

{% macro cas_class() -%}
    case
        {%- for bucket, condition in cas_buckets().items() if bucket != 'other' %}
        when {{ condition }} then '{{ bucket }}'
        {%- endfor %}
        else 'other'
    end
{%- endmacro %}
