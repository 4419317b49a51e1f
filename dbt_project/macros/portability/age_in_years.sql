{#-
    age_in_years(birth_date, as_of_date): completed years of age on as_of_date (a birthday
    counts on the day itself). DuckDB has a native function for it; other adapters use
    the portable year/month/day arithmetic, which gives the same result.
-#}
{% macro age_in_years(birth_date, as_of_date) -%}
    {{ return(adapter.dispatch('age_in_years', 'rcm_warehouse')(birth_date, as_of_date)) }}
{%- endmacro %}

{% macro duckdb__age_in_years(birth_date, as_of_date) -%}
    date_sub('year', {{ birth_date }}, {{ as_of_date }})
{%- endmacro %}

{% macro default__age_in_years(birth_date, as_of_date) -%}
    (
        extract(year from {{ as_of_date }}) - extract(year from {{ birth_date }})
        - case
            when extract(month from {{ as_of_date }}) * 100 + extract(day from {{ as_of_date }})
                < extract(month from {{ birth_date }}) * 100 + extract(day from {{ birth_date }})
                then 1
            else 0
        end
    )
{%- endmacro %}
