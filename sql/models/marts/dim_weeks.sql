-- One row per calendar week (Monday) from the first search to the snapshot: the trends' time axis.
with recursive bounds as (
    select
        cast(date_trunc('week', min(started_on)) as date) as first_week,
        cast(date_trunc('week', cast('{{ var("extracted_on") }}' as date)) as date) as last_week
    from {{ ref('stg_searches') }}
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
