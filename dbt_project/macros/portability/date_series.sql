{#-
    date_series(datepart, start_date, end_date): a select of one column, date_<datepart>
    (date_day, date_month), one row per day or month from start_date to end_date
    inclusive; the bounds may be scalar subqueries. DuckDB unnests generate_series at run
    time; elsewhere dbt's date_spine (which queries its bounds when compiling).
-#}
{% macro date_series(datepart, start_date, end_date) -%}
    {{ return(adapter.dispatch('date_series', 'rcm_warehouse')(datepart, start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__date_series(datepart, start_date, end_date) -%}
    select
        cast(
            unnest(
                generate_series(
                    cast({{ start_date }} as timestamp),
                    cast({{ end_date }} as timestamp),
                    interval 1 {{ datepart }}
                )
            ) as date
        ) as date_{{ datepart }}
{%- endmacro %}

{% macro default__date_series(datepart, start_date, end_date) -%}
    select cast(date_{{ datepart }} as date) as date_{{ datepart }}
    from ({{ dbt.date_spine(datepart, start_date, dbt.dateadd(datepart, 1, end_date)) }}) as spine
{%- endmacro %}
