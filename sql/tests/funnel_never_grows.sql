-- A funnel step never holds more items than the step before it.
with funnel as (
    select * from {{ ref('mart_funnel') }}
),

final as (
    select step, items, conversion from funnel where conversion > 1
)

select * from final
