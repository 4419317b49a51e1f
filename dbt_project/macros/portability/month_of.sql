{#-
    month_of(date): the first day of the date's month, as a date (dbt's date_trunc returns
    a timestamp on some adapters, DuckDB included).
-#}
{% macro month_of(date) -%}
    cast({{ dbt.date_trunc('month', date) }} as date)
{%- endmacro %}
