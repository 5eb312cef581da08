-- Where demand outruns supply: per region, wished procedure, age band and first language, the searches
-- waiting at the snapshot, the practices that report taking patients (where supply can be attributed),
-- their ratio, and how long the waiting searches have waited (median days).
with spells as (
    select * from {{ ref('fct_search_spells') }}
),

therapists as (
    select * from {{ ref('stg_therapists') }}
    where status = 'active' and accepting_patients
),

waiting as (
    select 'region3' as dimension, coalesce(region3, '?') as value, search_pseudonym, days_since_start
    from spells where is_waiting
    union all
    select 'procedure', first_procedure_wish, search_pseudonym, days_since_start from spells where is_waiting
    union all
    select 'age_band', coalesce(age_band, '?'), search_pseudonym, days_since_start from spells where is_waiting
    union all
    select 'language', first_language, search_pseudonym, days_since_start from spells where is_waiting
),

demand as (
    select dimension, value, count(*) as waiting_searches,
        percentile_cont(0.5) within group (order by days_since_start) as median_waiting_days
    from waiting group by dimension, value
),

supply_region as (
    select 'region3' as dimension, region3 as value,
        count(distinct coalesce(practice_id, -therapist_id)) as accepting_practices
    from therapists where region3 is not null group by region3
),

supply_procedure as (
    select 'procedure' as dimension, demand.value,
        count(distinct coalesce(therapists.practice_id, -therapists.therapist_id)) as accepting_practices
    from demand
    inner join therapists
        on demand.value = 'any' or ';' || therapists.procedures || ';' like '%;' || demand.value || ';%'
    where demand.dimension = 'procedure'
    group by demand.value
),

supply_language as (
    select 'language' as dimension, demand.value,
        count(distinct coalesce(therapists.practice_id, -therapists.therapist_id)) as accepting_practices
    from demand
    inner join therapists on ';' || therapists.languages || ';' like '%;' || demand.value || ';%'
    where demand.dimension = 'language'
    group by demand.value
),

supply as (
    select * from supply_region
    union all
    select * from supply_procedure
    union all
    select * from supply_language
),

final as (
    select
        demand.dimension,
        demand.value,
        demand.waiting_searches,
        case when demand.dimension = 'age_band' then null else coalesce(supply.accepting_practices, 0) end
            as accepting_practices,
        case when demand.dimension = 'age_band' then null
            else demand.waiting_searches * 1.0 / nullif(coalesce(supply.accepting_practices, 0), 0) end
            as waiting_per_practice,
        demand.median_waiting_days
    from demand
    left join supply on supply.dimension = demand.dimension and supply.value = demand.value
)

select * from final
