-- Response and acceptance per practice, region and wished procedure, over sent inquiries whose items are
-- closed. response_rate: answered items / closed items; acceptance_rate: offered items / answered items.
with items as (
    select * from {{ ref('fct_inquiry_items') }}
    where sent_at is not null and is_closed
),

practices as (
    select * from {{ ref('dim_practices') }}
),

keyed as (
    select 'practice' as dimension, cast(items.practice_key as varchar) as value,
        coalesce(practices.practice_name, 'Therapist ' || cast(items.therapist_id as varchar)) as label, items.*
    from items left join practices on practices.practice_id = items.practice_id
    union all
    select 'region3', coalesce(region3, '?'), coalesce(region3, '?'), items.* from items
    union all
    select 'procedure', first_procedure_wish, first_procedure_wish, items.* from items
),

final as (
    select
        dimension,
        value,
        max(label) as label,
        count(distinct inquiry_id) as inquiries,
        count(*) as items,
        count(distinct search_number) as searches,
        sum(case when is_answered then 1 else 0 end) as answered_items,
        sum(case when is_offered then 1 else 0 end) as offered_items,
        sum(case when is_answered then 1 else 0 end) * 1.0 / count(*) as response_rate,
        sum(case when is_offered then 1 else 0 end) * 1.0
            / nullif(sum(case when is_answered then 1 else 0 end), 0) as acceptance_rate
    from keyed
    group by dimension, value
)

select * from final
