-- name: placement_rates
-- The baseline: the marts' headline metrics as a competent engineer writes them straight on PostgreSQL.
-- Same definitions as sql/models/marts (the benchmark asserts the figures agree). :today is the snapshot day.
WITH spells AS (
    SELECT date_trunc('month', s.started_on)::date AS cohort_month,
           DATE :today - s.started_on AS days_since_start,
           p.placed_on - s.started_on AS days_to_placement
    FROM search s LEFT JOIN placement p ON p.search_id = s.id
)
SELECT cohort_month, count(*) AS searches,
       count(*) FILTER (WHERE days_since_start >= 30) AS observed_30,
       count(*) FILTER (WHERE days_since_start >= 30 AND days_to_placement <= 30) AS placed_30,
       CASE WHEN min(days_since_start) >= 30 THEN count(*) FILTER (WHERE days_to_placement <= 30) * 1.0 / count(*) END
           AS rate_30,
       count(*) FILTER (WHERE days_since_start >= 60) AS observed_60,
       count(*) FILTER (WHERE days_since_start >= 60 AND days_to_placement <= 60) AS placed_60,
       CASE WHEN min(days_since_start) >= 60 THEN count(*) FILTER (WHERE days_to_placement <= 60) * 1.0 / count(*) END
           AS rate_60,
       count(*) FILTER (WHERE days_since_start >= 90) AS observed_90,
       count(*) FILTER (WHERE days_since_start >= 90 AND days_to_placement <= 90) AS placed_90,
       CASE WHEN min(days_since_start) >= 90 THEN count(*) FILTER (WHERE days_to_placement <= 90) * 1.0 / count(*) END
           AS rate_90
FROM spells
GROUP BY cohort_month
ORDER BY cohort_month
;;
-- name: funnel
WITH items AS (
    SELECT it.search_id, it.outcome, it.created_at AS proposed_at, q.approved_at, q.sent_at, it.answered_at,
           p.first_session_confirmed_at, it.outcome IN ('accepted', 'no_show', 'in_sessions') AS is_offered
    FROM inquiry_item it
    JOIN inquiry q ON q.id = it.inquiry_id
    LEFT JOIN placement p ON p.inquiry_item_id = it.id
),
steps AS (
    SELECT 1 AS step_order, 'proposed' AS step, count(*) AS items, count(DISTINCT search_id) AS searches,
           NULL::float8 AS median_days
    FROM items
    UNION ALL
    SELECT 2, 'approved', count(*), count(DISTINCT search_id),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM approved_at - proposed_at) / 86400.0)
    FROM items WHERE approved_at IS NOT NULL
    UNION ALL
    SELECT 3, 'sent', count(*), count(DISTINCT search_id),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - approved_at) / 86400.0)
    FROM items WHERE sent_at IS NOT NULL
    UNION ALL
    SELECT 4, 'answered', count(*), count(DISTINCT search_id),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - sent_at) / 86400.0)
    FROM items WHERE sent_at IS NOT NULL AND answered_at IS NOT NULL
    UNION ALL
    SELECT 5, 'offered', count(*), count(DISTINCT search_id),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - sent_at) / 86400.0)
    FROM items WHERE sent_at IS NOT NULL AND is_offered
    UNION ALL
    SELECT 6, 'first_session', count(*), count(DISTINCT search_id),
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM first_session_confirmed_at - answered_at) / 86400.0)
    FROM items WHERE is_offered AND first_session_confirmed_at IS NOT NULL
    UNION ALL
    SELECT 7, 'in_therapy', count(*), count(DISTINCT search_id), NULL::float8
    FROM items WHERE outcome = 'in_sessions'
)
SELECT step_order, step, items, searches,
       items * 1.0 / nullif(lag(items) OVER (ORDER BY step_order), 0) AS conversion, median_days
FROM steps
ORDER BY step_order
;;
-- name: response_rates
WITH items AS (
    SELECT it.inquiry_id, it.search_id, it.answered_at IS NOT NULL AS is_answered,
           it.outcome IN ('accepted', 'no_show', 'in_sessions') AS is_offered,
           coalesce(q.practice_id, -q.therapist_id)::text AS practice_key,
           coalesce(CASE WHEN pr.postcode ~ '^[0-9]{5}$' THEN left(pr.postcode, 3) END,
                    CASE WHEN t.postcode ~ '^[0-9]{5}$' THEN left(t.postcode, 3) END, '?') AS region3,
           coalesce(nullif(pa.procedure_wishes[1], ''), 'any') AS procedure
    FROM inquiry_item it
    JOIN inquiry q ON q.id = it.inquiry_id
    JOIN therapist t ON t.id = q.therapist_id
    LEFT JOIN practice pr ON pr.id = q.practice_id
    JOIN search s ON s.id = it.search_id
    JOIN patient pa ON pa.id = s.patient_id
    WHERE q.sent_at IS NOT NULL AND it.outcome NOT IN ('pending', 'withdrawn')
)
SELECT CASE WHEN GROUPING(practice_key) = 0 THEN 'practice' WHEN GROUPING(region3) = 0 THEN 'region3'
            ELSE 'procedure' END AS dimension,
       coalesce(practice_key, region3, procedure) AS value,
       count(DISTINCT inquiry_id) AS inquiries, count(*) AS items, count(DISTINCT search_id) AS searches,
       count(*) FILTER (WHERE is_answered) AS answered_items, count(*) FILTER (WHERE is_offered) AS offered_items,
       count(*) FILTER (WHERE is_answered) * 1.0 / count(*) AS response_rate,
       count(*) FILTER (WHERE is_offered) * 1.0 / nullif(count(*) FILTER (WHERE is_answered), 0) AS acceptance_rate
FROM items
GROUP BY GROUPING SETS ((practice_key), (region3), (procedure))
;;
-- name: time_to_placement
WITH spells AS (
    SELECT p.placed_on IS NOT NULL AS is_placed,
           coalesce(p.placed_on, s.ended_on, DATE :today) - s.started_on AS days_observed,
           coalesce(CASE WHEN pa.postcode ~ '^[0-9]{5}$' THEN left(pa.postcode, 2) END, '?') AS region2,
           coalesce(nullif(pa.procedure_wishes[1], ''), 'any') AS procedure,
           (floor(extract(year FROM age(s.started_on, pa.birth_date)) / 5) * 5)::int AS age_low
    FROM search s
    JOIN patient pa ON pa.id = s.patient_id
    LEFT JOIN placement p ON p.search_id = s.id
),
strata AS (
    SELECT 'all' AS stratum_kind, 'all' AS stratum, days_observed, is_placed FROM spells
    UNION ALL SELECT 'region2', region2, days_observed, is_placed FROM spells
    UNION ALL SELECT 'procedure', procedure, days_observed, is_placed FROM spells
    UNION ALL SELECT 'age_band', age_low || '-' || (age_low + 4), days_observed, is_placed FROM spells
),
days AS (
    SELECT stratum_kind, stratum, days_observed AS day, count(*) FILTER (WHERE is_placed) AS events, count(*) AS exits
    FROM strata GROUP BY stratum_kind, stratum, days_observed
),
risk AS (
    SELECT days.*, sum(exits) OVER (PARTITION BY stratum_kind, stratum ORDER BY day DESC) AS at_risk FROM days
)
SELECT stratum_kind, stratum, day, at_risk, events, exits - events AS censored,
       CASE WHEN bool_or(events > 0 AND events = at_risk) OVER running THEN 0.0
            ELSE exp(sum(CASE WHEN events < at_risk THEN ln(1.0 - events * 1.0 / at_risk) ELSE 0.0 END) OVER running)
       END AS survival
FROM risk
WINDOW running AS (PARTITION BY stratum_kind, stratum ORDER BY day)
ORDER BY stratum_kind, stratum, day
