with source as (
    select * from {{ source('raw', 'emails') }}
),

final as (
    select
        email_id,
        template,
        status,
        inquiry_id,
        therapist_id,
        attempts,
        created_at,
        sent_at
    from source
)

select * from final
