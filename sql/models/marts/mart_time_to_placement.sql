-- Kaplan-Meier estimate of the time to placement: S(t) = product over event days u <= t of (1 - d_u / n_u),
-- n_u searches still waiting at day u, d_u placed on day u. Open and cancelled searches are censored at
-- the snapshot or their end, never dropped. One curve for all searches and one per stratum.
with spells as (
    select * from {{ ref('fct_search_spells') }}
),

strata as (
    select 'all' as stratum_kind, 'all' as stratum, days_observed, is_placed, search_pseudonym from spells
    union all
    select 'region2', coalesce(region2, '?'), days_observed, is_placed, search_pseudonym from spells
    union all
    select 'procedure', first_procedure_wish, days_observed, is_placed, search_pseudonym from spells
    union all
    select 'age_band', coalesce(age_band, '?'), days_observed, is_placed, search_pseudonym from spells
),

days as (
    select
        stratum_kind,
        stratum,
        days_observed as day,
        sum(case when is_placed then 1 else 0 end) as events,
        count(*) as exits
    from strata
    group by stratum_kind, stratum, days_observed
),

risk as (
    select
        days.*,
        sum(exits) over (
            partition by stratum_kind, stratum order by day desc rows between unbounded preceding and current row
        ) as at_risk
    from days
),

factors as (
    select
        risk.*,
        case when events < at_risk then ln(1.0 - events * 1.0 / at_risk) else 0.0 end as log_factor,
        case when events > 0 and events = at_risk then 1 else 0 end as reaches_zero
    from risk
),

final as (
    select
        stratum_kind,
        stratum,
        day,
        at_risk,
        events,
        exits - events as censored,
        case
            when max(reaches_zero) over running = 1 then 0.0
            else exp(sum(log_factor) over running)
        end as survival
    from factors
    window running as (partition by stratum_kind, stratum order by day rows between unbounded preceding and current row)
)

select * from final
