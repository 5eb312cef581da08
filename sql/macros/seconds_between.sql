{#- Seconds from `earlier` to `later` (two timestamps with time zone) as a number: the elapsed time, as
    PostgreSQL's extract(epoch from the interval) gives it. DuckDB subtracts the timestamps' integer microseconds:
    its interval between timestamptz counts calendar days in the session's zone (a DST day as 24 hours), and
    this is faster too (1,000,000 items: 0.07 s CPU instead of 0.33 s per median). -#}
{% macro seconds_between(later, earlier) %}
    {{- return(adapter.dispatch('seconds_between')(later, earlier)) -}}
{% endmacro %}

{% macro default__seconds_between(later, earlier) -%}
    extract(epoch from ({{ later }} - {{ earlier }}))
{%- endmacro %}

{% macro duckdb__seconds_between(later, earlier) -%}
    ((epoch_us({{ later }}) - epoch_us({{ earlier }})) / 1000000.0)
{%- endmacro %}
