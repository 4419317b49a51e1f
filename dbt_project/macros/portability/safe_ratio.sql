{#-
    safe_ratio(numerator, denominator): numerator ÷ denominator as a double, null when
    the denominator is zero or null (a rate with nothing to measure is unknown, not 0).
    Plain SQL (nullif, cast to the standard double precision; dbt's type_float is a
    4-byte float on DuckDB), so it runs on any adapter.
-#}
{% macro safe_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double precision)
    / nullif(cast({{ denominator }} as double precision), 0)
{%- endmacro %}
