with source as (
    select * from {{ source('raw', 'searches') }}
),

final as (
    select
        search_pseudonym,
        patient_pseudonym,
        status,
        cast(started_on as date) as started_on,
        cast(paused_until as date) as paused_until,
        cast(ended_on as date) as ended_on,
        max_parallel_inquiries,
        relaxations,
        patient_status,
        gender,
        case
            when age_band_low is null then null
            else cast(age_band_low as varchar) || '-' || cast(age_band_low + 4 as varchar)
        end as age_band,
        region3,
        region2,
        insurance_type,
        diagnosis_categories,
        procedure_wishes,
        setting_wish,
        languages,
        transport_mode,
        max_distance_km,
        weekly_hours,
        patient_erased
    from source
)

select * from final
