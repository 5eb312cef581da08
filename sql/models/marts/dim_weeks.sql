-- One row per calendar week (Monday) from the first search to the snapshot: the trends' time axis.
with recursive bounds as (
    select
        cast(date_trunc('week', min(started_on)) as date) as first_week,
        cast(date_trunc('week', max(extraction.extracted_on)) as date) as last_week
    from {{ ref('stg_searches') }}
    cross join (select max(extracted_on) as extracted_on from {{ ref('stg_extract_info') }}) as extraction
),

weeks (week_start) as (
    select first_week from bounds where first_week is not null
    union all
    select cast(week_start + interval '7 days' as date)
    from weeks, bounds
    where week_start < bounds.last_week
),

final as (
    select week_start, cast(week_start + interval '6 days' as date) as week_end
    from weeks
)

select * from final
