{#-
    days_between(start_date, end_date): whole days from start_date to end_date (negative
    when end_date is earlier). DuckDB subtracts dates to whole days; elsewhere dbt's
    cross-database datediff.
-#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'rcm_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    ({{ end_date }} - {{ start_date }})
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}
