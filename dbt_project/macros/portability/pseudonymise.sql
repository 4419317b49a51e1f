{#-
    pseudonymise(column): a one-way key in place of an identifier that is PHI (an
    insurance member id). Two tables that pseudonymise the same id get the same key, so
    they still join, but the id itself never leaves staging. Null stays null.
    Uses dbt's cross-database hash (md5 on DuckDB). A pseudonym, not de-identification:
    treat the key as PHI-derived.
-#}
{% macro pseudonymise(column) -%}
    case when {{ column }} is not null then {{ dbt.hash(column) }} end
{%- endmacro %}
