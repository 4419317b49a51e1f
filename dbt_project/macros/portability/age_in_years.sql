{#-
    age_in_years(birth_date, as_of_date): completed years of age on as_of_date; a birthday
    counts on the day itself, and a 29 February birthday on 1 March in common years.
    Plain year/month/day arithmetic, the same on every adapter (DuckDB's
    date_sub('year', ...) counts a 29 February birthday on 28 February instead, so it is
    deliberately not used).
-#}
{% macro age_in_years(birth_date, as_of_date) -%}
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
