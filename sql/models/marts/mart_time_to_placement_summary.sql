-- Median and quartiles of the time to placement per curve of mart_time_to_placement: the first day on
-- which the Kaplan-Meier survival falls to 75 % (q25), 50 % (median) and 25 % (q75); null while not reached.
with curve as (
    select * from {{ ref('mart_time_to_placement') }}
),

final as (
    select
        stratum_kind,
        stratum,
        max(at_risk) as searches,
        sum(events) as placements,
        min(case when survival <= 0.75 then day end) as q25_days,
        min(case when survival <= 0.5 then day end) as median_days,
        min(case when survival <= 0.25 then day end) as q75_days
    from curve
    group by stratum_kind, stratum
)

select * from final
