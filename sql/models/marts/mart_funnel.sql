-- The funnel of inquiry items: proposed -> approved -> sent -> answered -> offered -> first session ->
-- in therapy, with each step's count, its conversion from the step before and the median days it took.
with items as (
    select * from {{ ref('fct_inquiry_items') }}
),

steps as (
    select 1 as step_order, 'proposed' as step, count(*) as items, count(distinct search_number) as searches,
        cast(null as double precision) as median_days
    from items
    union all
    select 2, 'approved', count(*), count(distinct search_number),
        percentile_cont(0.5) within group (order by {{ seconds_between('approved_at', 'proposed_at') }} / 86400.0)
    from items where approved_at is not null
    union all
    select 3, 'sent', count(*), count(distinct search_number),
        percentile_cont(0.5) within group (order by {{ seconds_between('sent_at', 'approved_at') }} / 86400.0)
    from items where sent_at is not null
    union all
    select 4, 'answered', count(*), count(distinct search_number),
        percentile_cont(0.5) within group (order by {{ seconds_between('answered_at', 'sent_at') }} / 86400.0)
    from items where sent_at is not null and answered_at is not null
    union all
    select 5, 'offered', count(*), count(distinct search_number),
        percentile_cont(0.5) within group (order by {{ seconds_between('answered_at', 'sent_at') }} / 86400.0)
    from items where sent_at is not null and is_offered
    union all
    select 6, 'first_session', count(*), count(distinct search_number),
        percentile_cont(0.5) within group (order by {{ seconds_between('first_session_confirmed_at', 'answered_at') }} / 86400.0)
    from items where is_offered and first_session_confirmed_at is not null
    union all
    select 7, 'in_therapy', count(*), count(distinct search_number), cast(null as double precision)
    from items where outcome = 'in_sessions'
),

final as (
    select
        step_order,
        step,
        items,
        searches,
        items * 1.0 / nullif(lag(items) over (order by step_order), 0) as conversion,
        median_days
    from steps
)

select * from final
