{#-
    failing_rows(): the select list of a test's failing rows. With store_failures on
    (dbt_project.yml) the rows are kept in the dbt_test__audit schema for a data engineer
    to inspect, so they must hold no PHI: every column of the tested model except those
    listed in the var `phi_columns` (birth dates, full ZIP codes, member keys). Staging
    has already dropped names, addresses, phones and member ids; these are what is left
    past raw. Without stored failures only the count matters, and this is the same list.
-#}
{% macro failing_rows() -%}
    {{ columns_except(var('phi_columns', [])) }}
{%- endmacro %}


{#-
    dbt's not_null, overriding the built-in (dbt-core's global project) one: the built-in
    keeps `select *` of the failing rows when failures are stored, PHI columns included.
-#}
{% macro default__test_not_null(model, column_name) %}

select {{ failing_rows() }}
from {{ model }}
where {{ column_name }} is null

{% endmacro %}
