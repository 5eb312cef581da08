with source as (
    select * from {{ source('raw', 'inquiry_items') }}
),

final as (
    select
        item_id,
        inquiry_id,
        search_pseudonym,
        outcome,
        score,
        is_exploration,
        selection_probability,
        distance_km,
        answered_at,
        answer_source,
        cast(proposed_first_session as date) as proposed_first_session,
        proposed_at
    from source
)

select * from final
