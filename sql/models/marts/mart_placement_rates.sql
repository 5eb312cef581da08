-- Placement rate within 30 / 60 / 90 days of the search start, by monthly start cohort. A cohort has a rate
-- for a horizon only once every one of its searches has been observed that long: a partly observed cohort
-- would compare its oldest searches with whole cohorts (observed_N says how far it is).
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
        case when min(days_since_start) >= {{ days }} then
            sum(case when is_placed and days_to_placement <= {{ days }} then 1 else 0 end) * 1.0 / count(*)
        end as rate_{{ days }}{{ "," if not loop.last }}
        {% endfor %}
    from spells
    group by cohort_month
)

select * from final
