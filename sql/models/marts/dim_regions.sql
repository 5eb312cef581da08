-- One row per 3-digit postcode region that has therapists or searches: supply and demand side by side.
with therapists as (
    select * from {{ ref('stg_therapists') }}
),

spells as (
    select * from {{ ref('fct_search_spells') }}
),

supply as (
    select
        region3,
        count(*) as therapists,
        count(distinct case when status = 'active' and accepting_patients
            then coalesce(practice_id, -therapist_id) end) as accepting_practices
    from therapists
    where region3 is not null
    group by region3
),

demand as (
    select
        region3,
        count(*) as searches,
        sum(case when is_waiting then 1 else 0 end) as waiting_searches
    from spells
    where region3 is not null
    group by region3
),

regions as (
    select region3 from supply
    union
    select region3 from demand
),

final as (
    select
        regions.region3,
        substr(regions.region3, 1, 2) as region2,
        coalesce(supply.therapists, 0) as therapists,
        coalesce(supply.accepting_practices, 0) as accepting_practices,
        coalesce(demand.searches, 0) as searches,
        coalesce(demand.waiting_searches, 0) as waiting_searches
    from regions
    left join supply on supply.region3 = regions.region3
    left join demand on demand.region3 = regions.region3
)

select * from final
