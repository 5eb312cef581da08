-- Reconciliation: every mart holds exactly the rows PostgreSQL held at extraction time.
-- Returns one row per mismatch; dbt fails the build on any row.
-- PostgreSQL's counts come from the extraction (stg_extract_info); without any, the check fails too.
with expected as (
    select source, pg_rows as expected_rows from {{ ref('stg_extract_info') }}
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

mismatches as (
    select expected.source, expected.expected_rows, observed.observed_rows
    from expected
    left join observed on observed.source = expected.source
    where observed.observed_rows is null or observed.observed_rows <> expected.expected_rows
),

missing_counts as (
    select 'no PostgreSQL counts were extracted' as source, cast(null as bigint) as expected_rows,
        cast(null as bigint) as observed_rows
    where not exists (select 1 from expected)
),

final as (
    select * from mismatches
    union all
    select * from missing_counts
)

select * from final
