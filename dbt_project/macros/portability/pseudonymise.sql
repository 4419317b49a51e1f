{#-
    pseudonymise(column): a one-way key in place of an identifier that is PHI (an
    insurance member id). Two tables that pseudonymise the same id get the same key, so
    they still join, but the id itself never leaves staging. Null stays null.
    Keyed: SHA-256 of this warehouse's secret (source secrets.pseudonym_key, never published)
    followed by the id, so the key cannot be recomputed from a guessed member id (an
    unkeyed hash of a short id can). A pseudonym, not de-identification: treat the key as
    PHI-derived.
-#}
{% macro pseudonymise(column) -%}
    case
        when {{ column }} is not null
            then sha256((select max(key) from {{ source('secrets', 'pseudonym_key') }}) || {{ column }})
    end
{%- endmacro %}
