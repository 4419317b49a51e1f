{#-
    denial_outcome(is_overturned, is_patient_responsibility, writeoff_date, as_of_date):
    what became of a denial, one rule for claims and denials (kpis.md; HFMA denial
    overturn and write-off): overturned when a later primary adjudication paid; the
    patient's when all of it is group PR; written off once its policy write-off date
    (denial_writeoff_date) is on or before the as-of date; else open.
-#}
{% macro denial_outcome(is_overturned, is_patient_responsibility, writeoff_date, as_of_date) -%}
    case
        when {{ is_overturned }} then 'overturned'
        when {{ is_patient_responsibility }} then 'patient_responsibility'
        when {{ writeoff_date }} <= {{ as_of_date }} then 'written_off'
        else 'open'
    end
{%- endmacro %}
