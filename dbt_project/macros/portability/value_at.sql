{#-
    value_at_min(value, order_by) / value_at_max(value, order_by): the aggregate that
    returns `value` from the row with the smallest / largest `order_by` in the group
    (the first adjudication's status, the latest payer). DuckDB calls these arg_min and
    arg_max; Snowflake, Spark, Trino and Databricks call them min_by and max_by.
-#}
{% macro value_at_min(value, order_by) -%}
    {{ return(adapter.dispatch('value_at_min', 'rcm_warehouse')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__value_at_min(value, order_by) -%}
    arg_min({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro default__value_at_min(value, order_by) -%}
    min_by({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro value_at_max(value, order_by) -%}
    {{ return(adapter.dispatch('value_at_max', 'rcm_warehouse')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__value_at_max(value, order_by) -%}
    arg_max({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro default__value_at_max(value, order_by) -%}
    max_by({{ value }}, {{ order_by }})
{%- endmacro %}
