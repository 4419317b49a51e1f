{#-
    age_band(birth_date, on_date): our patient age bands on a date, from completed years
    (age_in_years): 0-17, 18-39, 40-64, 65+ (65 is Medicare age). Null birth date, null band.
-#}
{% macro age_band(birth_date, on_date) -%}
    {%- set age = age_in_years(birth_date, on_date) -%}
    case
        when {{ age }} < 18 then '0-17'
        when {{ age }} < 40 then '18-39'
        when {{ age }} < 65 then '40-64'
        when {{ age }} >= 65 then '65+'
    end
{%- endmacro %}
