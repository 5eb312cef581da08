-- Model calibration: closed inquiry items by score decile, the mean predicted offer probability beside the
-- observed offer rate.
with items as (
    select * from {{ ref('fct_inquiry_items') }}
    where is_closed and score is not null and sent_at is not null
),

ranked as (
    select items.*, ntile(10) over (order by score) as decile from items
),

final as (
    select
        decile,
        count(*) as items,
        count(distinct search_number) as searches,
        min(score) as min_score,
        max(score) as max_score,
        avg(score) as predicted_offer_rate,
        avg(case when is_offered then 1.0 else 0.0 end) as observed_offer_rate
    from ranked
    group by decile
)

select * from final
