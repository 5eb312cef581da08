-- One row per search inside an inquiry, with the inquiry's timings, the practice and the outcome.
with items as (
    select * from {{ ref('stg_inquiry_items') }}
),

inquiries as (
    select * from {{ ref('stg_inquiries') }}
),

therapists as (
    select * from {{ ref('stg_therapists') }}
),

practices as (
    select * from {{ ref('stg_practices') }}
),

spells as (
    select * from {{ ref('fct_search_spells') }}
),

placements as (
    select * from {{ ref('stg_placements') }}
),

final as (
    select
        items.item_id,
        items.inquiry_id,
        items.search_pseudonym,
        spells.search_number,
        inquiries.therapist_id,
        coalesce(inquiries.practice_id, -inquiries.therapist_id) as practice_key,
        inquiries.practice_id,
        coalesce(practices.region3, therapists.region3) as region3,
        coalesce(practices.region2, therapists.region2) as region2,
        inquiries.status as inquiry_status,
        items.outcome,
        items.outcome in ('accepted', 'no_show', 'in_sessions') as is_offered,
        items.answered_at is not null as is_answered,
        items.outcome not in ('pending', 'withdrawn') as is_closed,
        items.score,
        items.is_exploration,
        items.selection_probability,
        items.distance_km,
        items.proposed_at,
        inquiries.approved_at,
        inquiries.sent_at,
        inquiries.reminded_at,
        inquiries.call_scheduled_at,
        items.answered_at,
        items.answer_source,
        inquiries.approver_pseudonym,
        placements.first_session_confirmed_at,
        placements.first_session_on,
        spells.first_procedure_wish,
        spells.age_band,
        spells.first_language
    from items
    inner join inquiries on inquiries.inquiry_id = items.inquiry_id
    left join therapists on therapists.therapist_id = inquiries.therapist_id
    left join practices on practices.practice_id = inquiries.practice_id
    left join spells on spells.search_pseudonym = items.search_pseudonym
    left join placements on placements.item_id = items.item_id
)

select * from final
