with source as (
    select * from {{ source('raw', 'practices') }}
),

final as (
    select
        practice_id,
        name as practice_name,
        region3,
        region2,
        contact_channel,
        cast(cooldown_until as date) as cooldown_until
    from source
)

select * from final
