with source as (
    select * from {{ source('raw', 'therapists') }}
),

final as (
    select
        therapist_id,
        practice_id,
        gender,
        region3,
        region2,
        procedures,
        languages,
        status,
        accepting_patients,
        cast(accepting_confirmed_on as date) as accepting_confirmed_on,
        cast(last_verified_on as date) as last_verified_on,
        source as record_source
    from source
)

select * from final
