{#-
    columns_except(names): a select list of every column of the relation in the FROM
    clause except `names`; a name the relation does not have is ignored. Works on a
    subquery as well as a table (a test's `where` config makes one). DuckDB has it as
    COLUMNS with a lambda; another adapter needs its own (e.g. from the relation's
    columns), so the default stops the build rather than keep too many columns.
-#}
{% macro columns_except(names) -%}
    {{ return(adapter.dispatch('columns_except', 'rcm_warehouse')(names)) }}
{%- endmacro %}

{% macro duckdb__columns_except(names) -%}
    {%- if names | length == 0 -%}
        *
    {%- else -%}
        columns(lambda c: c not in (
            {%- for name in names -%}
                '{{ name }}'{% if not loop.last %}, {% endif %}
            {%- endfor -%}
        ))
    {%- endif -%}
{%- endmacro %}

{% macro default__columns_except(names) -%}
    {{ exceptions.raise_compiler_error(
        "columns_except has no implementation for adapter " ~ adapter.type()
        ~ ": add " ~ adapter.type() ~ "__columns_except to macros/portability"
    ) }}
{%- endmacro %}
