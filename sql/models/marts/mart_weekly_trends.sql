-- Week by week: new searches, placements, items sent, answers and offers, each beside the week before.
with weeks as (
    select * from {{ ref('dim_weeks') }}
),

spells as (
    select * from {{ ref('fct_search_spells') }}
),

items as (
    select * from {{ ref('fct_inquiry_items') }}
),

started as (
    select start_week as week_start, count(*) as new_searches from spells group by 1
),

placed as (
    select cast(date_trunc('week', placed_on) as date) as week_start, count(*) as placements,
        percentile_cont(0.5) within group (order by days_to_placement) as median_days_to_placement
    from spells where is_placed group by 1
),

sent as (
    select cast(date_trunc('week', sent_at) as date) as week_start, count(*) as items_sent
    from items where sent_at is not null group by 1
),

answered as (
    select cast(date_trunc('week', answered_at) as date) as week_start, count(*) as answers,
        sum(case when is_offered then 1 else 0 end) as offers
    from items where answered_at is not null group by 1
),

weekly as (
    select
        weeks.week_start,
        coalesce(started.new_searches, 0) as new_searches,
        coalesce(placed.placements, 0) as placements,
        placed.median_days_to_placement,
        coalesce(sent.items_sent, 0) as items_sent,
        coalesce(answered.answers, 0) as answers,
        coalesce(answered.offers, 0) as offers
    from weeks
    left join started on started.week_start = weeks.week_start
    left join placed on placed.week_start = weeks.week_start
    left join sent on sent.week_start = weeks.week_start
    left join answered on answered.week_start = weeks.week_start
),

final as (
    select
        weekly.*,
        lag(new_searches) over (order by week_start) as previous_new_searches,
        lag(placements) over (order by week_start) as previous_placements,
        lag(items_sent) over (order by week_start) as previous_items_sent,
        lag(answers) over (order by week_start) as previous_answers,
        lag(offers) over (order by week_start) as previous_offers
    from weekly
)

select * from final
