with source as (
    select * from {{ source('raw', 'inquiries') }}
),

final as (
    select
        inquiry_id,
        therapist_id,
        practice_id,
        status,
        approver_pseudonym,
        proposed_at,
        approved_at,
        sent_at,
        reminded_at,
        call_scheduled_at,
        answered_at,
        closed_at
    from source
)

select * from final
