{#-
    aging_bucket(days_outstanding), aging_bucket_order(days_outstanding),
    is_over_90_days(days_outstanding): A/R aged from the date of service in the HFMA MAP
    Key AR-2 buckets 0-30, 31-60, 61-90, 91-120 and 120+ days (order 1 to 5); A/R over 90
    days is the last two (HFMA AR-1/AR-2). One rule for fct_ar_daily, fct_ar_snapshots and
    the KPIs' A/R > 90 days.
-#}
{% macro aging_buckets() -%}
    {#- (upper bound in days, label), youngest first; the last bucket has no bound -#}
    {{ return([(30, '0-30'), (60, '31-60'), (90, '61-90'), (120, '91-120'), (none, '120+')]) }}
{%- endmacro %}

{% macro aging_bucket(days_outstanding) -%}
    case
        {%- for upper, label in aging_buckets() %}
        {%- if upper is not none %}
        when {{ days_outstanding }} <= {{ upper }} then '{{ label }}'
        {%- else %}
        else '{{ label }}'
        {%- endif %}
        {%- endfor %}
    end
{%- endmacro %}

{% macro aging_bucket_order(days_outstanding) -%}
    case
        {%- for upper, label in aging_buckets() %}
        {%- if upper is not none %}
        when {{ days_outstanding }} <= {{ upper }} then {{ loop.index }}
        {%- else %}
        else {{ loop.index }}
        {%- endif %}
        {%- endfor %}
    end
{%- endmacro %}

{% macro is_over_90_days(days_outstanding) -%}
    ({{ days_outstanding }} > 90)
{%- endmacro %}
