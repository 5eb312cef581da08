with source as (
    select * from {{ source('raw', 'phone_calls') }}
),

final as (
    select
        call_id,
        inquiry_id,
        therapist_id,
        status,
        outcome,
        attempt,
        scheduled_for,
        done_at
    from source
)

select * from final
