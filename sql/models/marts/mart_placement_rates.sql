-- Placement rate within 30 / 60 / 90 days of the search start, by monthly start cohort. A search counts
-- towards a horizon only once it has been observed that long (younger searches would bias the rate down).
with spells as (
    select * from {{ ref('fct_search_spells') }}
),

final as (
    select
        cohort_month,
        count(*) as searches,
        {% for days in [30, 60, 90] %}
        sum(case when days_since_start >= {{ days }} then 1 else 0 end) as observed_{{ days }},
        sum(case when days_since_start >= {{ days }} and is_placed and days_to_placement <= {{ days }}
            then 1 else 0 end) as placed_{{ days }},
        sum(case when days_since_start >= {{ days }} and is_placed and days_to_placement <= {{ days }}
            then 1 else 0 end) * 1.0
            / nullif(sum(case when days_since_start >= {{ days }} then 1 else 0 end), 0) as rate_{{ days }}{{ "," if not loop.last }}
        {% endfor %}
    from spells
    group by cohort_month
)

select * from final
