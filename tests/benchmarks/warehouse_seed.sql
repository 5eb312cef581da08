-- Synthetic history for the warehouse benchmark, set-based (the demo generator takes minutes at this size).
-- :today is the snapshot day, :now its evening (UTC). Two years of searches; started_on grows with the id, so
-- the consecutive searches bundled into one inquiry started within a day of each other. Statements are
-- separated by lines holding only ";;" (the benchmark splits on them).
SELECT setseed(0.42)
;;
CREATE TEMP TABLE bench_search ON COMMIT DROP AS
SELECT g AS id, DATE :today - 730 + ((g - 1)::bigint * 730 / :searches)::int AS started_on,
       random() AS r_end, random() AS r_pause
FROM generate_series(1, :searches) g
;;
INSERT INTO staff_user (id, email, display_name, role, password_hash, is_active, language, version)
SELECT g, 'bench-staff' || g || '@example.org', 'Bench ' || g, 'staff', 'not-a-login', true, 'de', 1
FROM generate_series(1, 8) g
;;
INSERT INTO practice (id, name, email_normalized, postcode, city, location_precision, contact_channel,
                      phone_hours, version)
SELECT g, 'Praxis ' || g, CASE WHEN g % 5 <> 0 THEN 'praxis' || g || '@example.org' END,
       (10000 + (g::bigint * 7919) % 89999)::text, 'Stadt', 'postcode',
       CASE WHEN g % 5 = 0 THEN 'phone' ELSE 'email' END, '[]', 1
FROM generate_series(1, :practices) g
;;
-- one therapist in 20 has no practice (the marts key it by -therapist_id)
INSERT INTO therapist (id, practice_id, first_name, last_name, gender, postcode, city, location_precision, procedures,
                       languages, phone_hours, pref_patient_gender, pref_diagnoses, statutory_licence, status,
                       status_reason, accepting_patients, accepting_confirmed_on, source, last_verified_on,
                       staff_edited_fields, version)
SELECT g, CASE WHEN g % 20 <> 0 THEN p END, 'Vorname', 'Therapeut ' || g,
       (ARRAY['female', 'female', 'male', 'diverse'])[1 + g % 4],
       (10000 + (p::bigint * 7919) % 89999)::text, 'Stadt', 'postcode',
       jsonb_build_array(jsonb_build_object('procedure', (ARRAY['VT', 'TP', 'AP', 'ST'])[1 + g % 4],
                                            'setting', 'individual', 'age_group', 'adults')),
       '{de}', '[]', 'any', '{}', true,
       CASE WHEN g % 50 = 0 THEN 'inactive' ELSE 'active' END,
       CASE WHEN g % 50 = 0 THEN 'Praxis aufgegeben' END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE g % 3 = 1 END, DATE :today - g % 300, 'demo', DATE :today - g % 400,
       '{}', 1
FROM generate_series(1, :therapists) g, LATERAL (SELECT ((g - 1) % :practices) + 1 AS p) pr
;;
INSERT INTO patient (id, reference, status, first_name, last_name, gender, birth_date, postcode, location_precision,
                     insurance_type, symptoms, diagnoses, availability, weekly_hours, max_distance_km,
                     transport_mode, therapist_gender_wish, procedure_wishes, setting_wish, languages,
                     excluded_therapist_ids, contact_language, version)
SELECT s.id, 'B-' || s.id, 'searching', 'Vorname', 'Nachname', (ARRAY['female', 'male', 'female', 'diverse'])[1 + s.id % 4],
       DATE '1946-01-01' + (s.id::bigint * 7919 % 21000)::int, (10000 + (s.id::bigint * 104729) % 89999)::text,
       'postcode', (ARRAY['statutory', 'statutory', 'statutory', 'private', 'subsidy'])[1 + s.id % 5], '{}',
       ARRAY[(ARRAY['F32.1', 'F41.1', 'F43.1', 'F33.0', 'F40.0'])[1 + s.id % 5]], '[]', 20, 15,
       (ARRAY['transit', 'car', 'bike', 'foot'])[1 + s.id % 4], 'any',
       (CASE s.id % 3 WHEN 0 THEN '{}' WHEN 1 THEN '{VT}' ELSE '{TP}' END)::varchar(2)[], 'individual', '{de}', '{}', 'de', 1
FROM bench_search s
;;
INSERT INTO search (id, patient_id, status, started_on, max_parallel_inquiries, relaxations, excluded_therapist_ids,
                    version)
SELECT id, id, 'active', started_on, 3, '[]', '{}', 1 FROM bench_search
;;
-- Inquiry i bundles searches (3i + j) mod N + 1 for j < 3 (i <= N) or j < 2 (others): 1,000,000 items for
-- 400,000 inquiries and 200,000 searches. Round m = 3i div N (0..5) is each search's m-th inquiry, 12 days apart.
CREATE TEMP TABLE bench_inquiry ON COMMIT DROP AS
WITH base AS (
    SELECT i, least(((s.started_on + 2 + (3 * i / :searches) * 12 + i % 5)::timestamp + time '07:00'
                     + (i % 540) * interval '1 minute') AT TIME ZONE 'UTC',
                    :now::timestamptz - (1 + i % 47) * interval '1 hour') AS created_at,
           random() AS r_answer, 1 + floor(random() * 20)::int AS answer_days, random() AS r_discard
    FROM generate_series(1, :inquiries) i
    JOIN bench_search s ON s.id = (3 * i) % :searches + 1
),
aged AS (
    SELECT base.*, extract(epoch FROM :now::timestamptz - created_at) / 86400.0 AS age_days FROM base
)
SELECT i AS id, created_at, answer_days, age_days,
       CASE
           WHEN age_days >= 1 AND r_discard < 0.02 THEN 'discarded'
           WHEN age_days < 1 THEN CASE WHEN r_answer < 0.5 THEN 'proposed' ELSE 'approved' END
           WHEN r_answer < 0.65 AND age_days - 1 > answer_days THEN 'answered'
           WHEN age_days >= 23 THEN 'expired'
           WHEN age_days >= 16 THEN 'call_scheduled'
           WHEN age_days >= 8 THEN 'reminded'
           ELSE 'sent'
       END AS status
FROM aged
;;
INSERT INTO inquiry (id, reference, therapist_id, practice_id, status, approved_by_id, approved_at, sent_at,
                     reminded_at, call_scheduled_at, answered_at, closed_at, created_at, updated_at, version)
SELECT q.id, 'BQ-' || q.id, t.id, t.practice_id, q.status,
       CASE WHEN q.status NOT IN ('proposed', 'discarded') THEN 1 + q.id % 8 END,
       CASE WHEN q.status NOT IN ('proposed', 'discarded') THEN q.created_at + interval '3 hours' END,
       CASE WHEN q.status NOT IN ('proposed', 'approved', 'discarded') THEN q.created_at + interval '1 day' END,
       CASE WHEN q.status IN ('reminded', 'call_scheduled', 'expired') OR (q.status = 'answered' AND q.answer_days > 7)
            THEN q.created_at + interval '8 days' END,
       CASE WHEN q.status IN ('call_scheduled', 'expired') OR (q.status = 'answered' AND q.answer_days > 14)
            THEN q.created_at + interval '15 days' END,
       CASE WHEN q.status = 'answered' THEN q.created_at + (1 + q.answer_days) * interval '1 day' + interval '2 hours' END,
       CASE WHEN q.status = 'answered' THEN q.created_at + (1 + q.answer_days) * interval '1 day' + interval '2 hours'
            WHEN q.status = 'expired' THEN q.created_at + interval '22 days'
            WHEN q.status = 'discarded' THEN q.created_at + interval '5 hours' END,
       q.created_at, q.created_at, 1
FROM bench_inquiry q
JOIN therapist t ON t.id = (q.id::bigint * 7919) % :therapists + 1
;;
INSERT INTO inquiry_item (id, inquiry_id, search_id, outcome, score, factors, is_exploration, selection_probability,
                          distance_km, answered_at, answer_source, is_conflict, created_at)
SELECT k, q.id, (3 * q.id + j) % :searches + 1,
       CASE q.status
           WHEN 'answered' THEN CASE WHEN r < 0.15 THEN 'accepted' WHEN r < 0.6 THEN 'declined_capacity'
                                     WHEN r < 0.8 THEN 'declined_unsuitable' ELSE 'declined_other' END
           WHEN 'expired' THEN 'no_answer'
           WHEN 'discarded' THEN 'withdrawn'
           ELSE 'pending'
       END,
       r, '{}', k % 20 = 0, 0.5 + r / 2, (k % 300) / 10.0, q.answered_at,
       CASE WHEN q.status = 'answered' THEN (ARRAY['link', 'email', 'phone', 'staff'])[1 + k % 4] END,
       false, q.created_at
FROM (SELECT k, (k - 1) % :inquiries + 1 AS inquiry_id, (k - 1) / :inquiries AS j, random() AS r
      FROM generate_series(1, :items) k) it
JOIN inquiry q ON q.id = it.inquiry_id
;;
-- First acceptance wins: the earliest accepted item of a search is its placement.
INSERT INTO placement (search_id, therapist_id, inquiry_item_id, placed_on, first_session_on,
                       first_session_confirmed_at, created_at)
SELECT search_id, therapist_id, item_id, placed_on, placed_on + 10 + item_id % 25,
       CASE WHEN placed_on + 10 + item_id % 25 < DATE :today AND item_id % 10 <> 0
            THEN (placed_on + 10 + item_id % 25)::timestamp AT TIME ZONE 'UTC' + interval '18 hours' END,
       answered_at
FROM (
    SELECT DISTINCT ON (it.search_id) it.search_id, q.therapist_id, it.id AS item_id, it.answered_at,
           (it.answered_at AT TIME ZONE 'Europe/Berlin')::date AS placed_on
    FROM inquiry_item it JOIN inquiry q ON q.id = it.inquiry_id
    WHERE it.outcome = 'accepted'
    ORDER BY it.search_id, it.answered_at, it.id
) first_acceptance
;;
-- Inquiries proposed after the placement no longer carry the search; later acceptances are conflicts.
UPDATE inquiry_item it SET outcome = 'withdrawn', answered_at = NULL, answer_source = NULL
FROM placement p
WHERE p.search_id = it.search_id AND it.id <> p.inquiry_item_id
  AND (it.outcome = 'pending' OR it.created_at::date > p.placed_on)
;;
UPDATE inquiry_item it SET is_conflict = true
FROM placement p
WHERE p.search_id = it.search_id AND it.id <> p.inquiry_item_id AND it.outcome = 'accepted'
;;
UPDATE inquiry_item it SET outcome = CASE WHEN it.id % 20 = 0 THEN 'no_show' ELSE 'in_sessions' END
FROM placement p
WHERE p.inquiry_item_id = it.id AND p.first_session_confirmed_at IS NOT NULL
;;
UPDATE search s SET status = 'successful', ended_on = p.placed_on FROM placement p WHERE p.search_id = s.id
;;
UPDATE search s SET status = 'cancelled', cancel_reason = 'Synthetisch',
       ended_on = s.started_on + 30 + floor(b.r_end * (DATE :today - s.started_on - 30))::int
FROM bench_search b
WHERE b.id = s.id AND s.status = 'active' AND s.started_on < DATE :today - 90 AND b.r_end < 0.35
;;
UPDATE inquiry_item it SET outcome = 'withdrawn', answered_at = NULL, answer_source = NULL
FROM search s
WHERE s.id = it.search_id AND s.status = 'cancelled' AND it.created_at::date > s.ended_on
;;
UPDATE search s SET status = 'paused', paused_until = DATE :today + 14
FROM bench_search b
WHERE b.id = s.id AND s.status = 'active' AND b.r_pause < 0.04
;;
UPDATE patient p SET status = CASE s.status WHEN 'successful' THEN 'in_therapy' WHEN 'cancelled' THEN 'search_cancelled'
                                            ELSE 'searching' END
FROM search s WHERE s.patient_id = p.id AND s.status <> 'active'
;;
INSERT INTO email (template, language, to_address, subject, body_text, message_id, status, attempts, needs_review,
                   inquiry_id, therapist_id, sent_at, created_at, updated_at)
SELECT kind, 'de', 'praxis@example.org', 'Anfrage BQ-' || q.id, 'Synthetischer Text',
       '<' || kind || '-' || q.id || '@bench.example.org>',
       CASE WHEN q.id % 200 = 0 THEN 'dead' ELSE 'sent' END, CASE WHEN q.id % 200 = 0 THEN 5 ELSE 1 END, false,
       q.id, q.therapist_id, CASE WHEN q.id % 200 <> 0 THEN at END, at - interval '5 minutes', at
FROM inquiry q
CROSS JOIN LATERAL (VALUES ('inquiry', q.sent_at), ('reminder', q.reminded_at)) AS m(kind, at)
WHERE at IS NOT NULL
;;
INSERT INTO phone_call (inquiry_id, therapist_id, scheduled_for, duration_minutes, attempt, status, outcome,
                        staff_user_id, done_at, version)
SELECT q.id, q.therapist_id, q.call_scheduled_at + (a - 1) * interval '2 days' + interval '2 hours', 5, a,
       CASE WHEN q.call_scheduled_at + (a - 1) * interval '2 days' + interval '3 hours' < :now::timestamptz
            THEN 'done' ELSE 'scheduled' END,
       CASE WHEN q.call_scheduled_at + (a - 1) * interval '2 days' + interval '3 hours' < :now::timestamptz
            THEN CASE WHEN q.status = 'answered' AND a = 1 THEN 'reached' ELSE 'not_reached' END END,
       1 + q.id % 8,
       CASE WHEN q.call_scheduled_at + (a - 1) * interval '2 days' + interval '3 hours' < :now::timestamptz
            THEN q.call_scheduled_at + (a - 1) * interval '2 days' + interval '2 hours 5 minutes' END,
       1
FROM inquiry q CROSS JOIN generate_series(1, 2) a
WHERE q.call_scheduled_at IS NOT NULL AND (a = 1 OR q.status = 'expired')
