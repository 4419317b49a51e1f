{#-
    composite_key(columns): one text key from several columns, the values joined by '-'
    ('12-345' is file 12, segment 345). Readable, reversible, and built from dbt's
    cross-database concat and string type, so it runs on any adapter.
    The columns must not be null (a key is not null by definition).
-#}
{% macro composite_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")") -%}
        {%- if not loop.last -%}
            {%- do parts.append("'-'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}
