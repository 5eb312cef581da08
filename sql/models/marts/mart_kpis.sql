-- The overview's key figures for the last 28 days up to the snapshot, beside the 28 days before.
-- placement_rate_90: placed within 90 days among searches started 90-118 (current) or 118-146 days ago.
with spells as (
    select * from {{ ref('fct_search_spells') }}
),

items as (
    select * from {{ ref('fct_inquiry_items') }}
),

extraction as (
    select max(extracted_on) as extracted_on from {{ ref('stg_extract_info') }}
),

periods as (
    select 'current' as period, extracted_on - 27 as first_day, extracted_on as last_day from extraction
    union all
    select 'previous', extracted_on - 55, extracted_on - 28 from extraction
),

by_period as (
    select
        periods.period,
        (select count(*) from spells where started_on between periods.first_day and periods.last_day)
            as new_searches,
        (select count(*) from spells where placed_on between periods.first_day and periods.last_day)
            as placements,
        (select percentile_cont(0.5) within group (order by days_to_placement) from spells
            where placed_on between periods.first_day and periods.last_day) as median_days_to_placement,
        (select count(*) from items where cast(sent_at as date) between periods.first_day and periods.last_day)
            as items_sent,
        (select sum(case when is_offered then 1 else 0 end) * 1.0 / nullif(count(*), 0) from items
            where cast(answered_at as date) between periods.first_day and periods.last_day) as offer_rate,
        (select sum(case when is_placed and days_to_placement <= 90 then 1 else 0 end) * 1.0 / nullif(count(*), 0)
            from spells where started_on between periods.first_day - 90 and periods.last_day - 90)
            as placement_rate_90
    from periods
),

long as (
    {% for kpi in ['new_searches', 'placements', 'median_days_to_placement', 'items_sent', 'offer_rate', 'placement_rate_90'] %}
    select '{{ kpi }}' as kpi, {{ loop.index }} as kpi_order,
        max(case when period = 'current' then cast({{ kpi }} as double precision) end) as current_value,
        max(case when period = 'previous' then cast({{ kpi }} as double precision) end) as previous_value
    from by_period
    {{ "union all" if not loop.last }}
    {% endfor %}
),

final as (
    select kpi, kpi_order, current_value, previous_value, current_value - previous_value as change
    from long
)

select * from final
