-- One row per practice (public register data), with its therapists and how many report taking patients.
with practices as (
    select * from {{ ref('stg_practices') }}
),

therapists as (
    select * from {{ ref('stg_therapists') }}
),

staffing as (
    select
        practice_id,
        count(*) as therapists,
        sum(case when status = 'active' and accepting_patients then 1 else 0 end) as accepting_therapists
    from therapists
    where practice_id is not null
    group by practice_id
),

final as (
    select
        practices.practice_id,
        practices.practice_name,
        practices.region3,
        practices.region2,
        practices.contact_channel,
        coalesce(staffing.therapists, 0) as therapists,
        coalesce(staffing.accepting_therapists, 0) as accepting_therapists
    from practices
    left join staffing on staffing.practice_id = practices.practice_id
)

select * from final
