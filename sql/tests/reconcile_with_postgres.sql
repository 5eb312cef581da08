-- Reconciliation: every mart holds exactly the rows PostgreSQL held at extraction time.
-- Returns one row per mismatch; dbt fails the build on any row.
{% set counts = var('pg_counts') %}
{% if not counts %}
    {{ exceptions.raise_compiler_error("pg_counts is empty: the build must pass PostgreSQL's row counts") }}
{% endif %}

with expected as (
    {% for source, rows in counts.items() %}
    select '{{ source }}' as source, {{ rows | int }} as expected_rows
    {{ "union all" if not loop.last }}
    {% endfor %}
),

observed as (
    select 'searches' as source, count(*) as observed_rows from {{ ref('fct_search_spells') }}
    union all
    select 'inquiry_items', count(*) from {{ ref('fct_inquiry_items') }}
    union all
    select 'inquiries', count(*) from {{ ref('stg_inquiries') }}
    union all
    select 'placements', count(*) from {{ ref('fct_search_spells') }} where is_placed
    union all
    select 'practices', count(*) from {{ ref('dim_practices') }}
    union all
    select 'therapists', count(*) from {{ ref('stg_therapists') }}
    union all
    select 'emails', count(*) from {{ ref('stg_emails') }}
    union all
    select 'phone_calls', count(*) from {{ ref('stg_phone_calls') }}
),

final as (
    select expected.source, expected.expected_rows, observed.observed_rows
    from expected
    left join observed on observed.source = expected.source
    where observed.observed_rows is null or observed.observed_rows <> expected.expected_rows
)

select * from final
