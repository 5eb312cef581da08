with source as (
    select * from {{ source('raw', 'placements') }}
),

final as (
    select
        placement_id,
        search_pseudonym,
        therapist_id,
        item_id,
        cast(placed_on as date) as placed_on,
        cast(first_session_on as date) as first_session_on,
        first_session_confirmed_at
    from source
)

select * from final
