{#-
    Folder schemas by their plain names (staging, intermediate, marts, terminology)
    rather than dbt's default <target schema>_<custom schema>, so readers and the
    publish step find marts.fct_claims whatever the target is called.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
