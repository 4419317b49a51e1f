{#-
    denial_writeoff_date(denial_date): the billing office's write-off date of a denial that
    no follow-up has overturned: `denial_writeoff_after_days` (a project var, 60 by default)
    after the remittance that denied it. One definition for the claim and denial models.
-#}
{% macro denial_writeoff_date(denial_date) -%}
    cast({{ dbt.dateadd('day', var('denial_writeoff_after_days'), denial_date) }} as date)
{%- endmacro %}
