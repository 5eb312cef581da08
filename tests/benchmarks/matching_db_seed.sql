-- Nationwide matching data for the database-inclusive benchmark (tests/benchmarks/test_bench_matching_db.py):
-- :therapists therapists in practices of 1 to 6 at real PLZ centroids, :searches patients with one active
-- search each, a history of answered inquiries and a few open ones. Set-based (generate_series), seeded by
-- setseed so every run draws the same data. Shares follow the in-memory benchmark (test_bench_matching.py).
SELECT setseed(0.2026);

CREATE TEMP TABLE bench_plz AS
SELECT row_number() OVER (ORDER BY plz) AS n, plz, latitude, longitude FROM postcode;

-- practices: one per ~1.8 therapists; the first therapist of each practice is its anchor
CREATE TEMP TABLE bench_practice AS
SELECT g AS n, 1 + floor(random() * (SELECT count(*) FROM bench_plz))::int AS plz_row, floor(random() * 32)::int AS day_bits
FROM generate_series(1, (:therapists / 1.8)::int) AS g;

INSERT INTO practice (id, name, postcode, latitude, longitude, location_precision, contact_channel, phone_hours,
                      cooldown_until, last_contacted_at, version)
SELECT b.n, 'Praxis ' || b.n, p.plz, p.latitude, p.longitude, 'postcode', 'email',
       (SELECT coalesce(jsonb_object_agg(d::text, '[["09:00", "10:00"]]'::jsonb), '{}'::jsonb)
        FROM generate_series(0, 4) AS d WHERE b.day_bits & (1 << d) <> 0 OR (b.day_bits = 0 AND d = 2)),
       CASE WHEN random() < 0.3 THEN DATE :today + (random() * 28)::int END,
       TIMESTAMPTZ :now - (1 + random() * 200) * INTERVAL '1 day',
       1
FROM bench_practice b JOIN bench_plz p ON p.n = b.plz_row;
SELECT setval(pg_get_serial_sequence('practice', 'id'), (SELECT max(id) FROM practice));

INSERT INTO therapist (id, practice_id, first_name, last_name, gender, postcode, latitude, longitude,
                       location_precision, procedures, languages, phone_hours, pref_age_min, pref_age_max,
                       pref_patient_gender, pref_diagnoses, statutory_licence, status, accepting_patients,
                       accepting_confirmed_on, source, external_id, last_verified_on, staff_edited_fields, version)
SELECT g, p.id, 'T' || g, 'Therapeut ' || g,
       CASE WHEN r.w2 < 0.74 THEN 'female' WHEN r.w2 < 0.98 THEN 'male' WHEN r.w2 < 0.99 THEN 'diverse'
            ELSE 'unknown' END,
       p.postcode, p.latitude, p.longitude, 'postcode',
       (SELECT jsonb_agg(jsonb_build_object('procedure', r.procedure, 'setting', s, 'age_group', a))
        FROM unnest(CASE WHEN r.group_too THEN ARRAY['individual', 'group'] ELSE ARRAY['individual'] END) AS s,
             unnest(r.ages) AS a),
       CASE WHEN random() < 0.12 THEN ARRAY['de', 'en'] WHEN random() < 0.03 THEN ARRAY['de', 'tr'] ELSE ARRAY['de'] END,
       '{}'::jsonb,
       CASE WHEN r.ages = ARRAY['adults'] AND random() < 0.1 THEN 18 END,
       CASE WHEN r.ages = ARRAY['children_youth'] THEN 21 END,
       CASE WHEN random() < 0.04 THEN 'female' WHEN random() < 0.01 THEN 'male' ELSE 'any' END,
       CASE WHEN random() >= 0.06 THEN ARRAY[]::varchar[] WHEN g % 2 = 0 THEN ARRAY['F40', 'F41']
            ELSE ARRAY['F32', 'F33'] END,
       random() < 0.9, 'active', r.accepting,
       CASE WHEN r.accepting IS NOT NULL THEN DATE :today - (3 + random() * 300)::int END,
       'demo', 'bench-' || g, DATE :today - (5 + random() * 400)::int, ARRAY[]::varchar[], 1
FROM generate_series(1, :therapists) AS g
JOIN practice p ON p.id = 1 + (g - 1) % (SELECT count(*) FROM practice)
CROSS JOIN LATERAL (
    SELECT CASE WHEN x < 0.55 THEN 'VT' WHEN x < 0.88 THEN 'TP' WHEN x < 0.96 THEN 'AP' ELSE 'ST' END AS procedure,
           CASE WHEN y < 0.80 THEN ARRAY['adults'] WHEN y < 0.92 THEN ARRAY['children_youth']
                ELSE ARRAY['adults', 'children_youth'] END AS ages,
           z < 0.15 AS group_too,
           CASE WHEN w < 0.25 THEN true WHEN w < 0.60 THEN false END AS accepting, w2
    FROM (SELECT random() + g * 0 AS x, random() AS y, random() AS z, random() AS w, random() AS w2) AS draws
) AS r;
SELECT setval(pg_get_serial_sequence('therapist', 'id'), (SELECT max(id) FROM therapist));

INSERT INTO patient (id, reference, status, first_name, last_name, gender, birth_date, postcode, latitude, longitude,
                     location_precision, insurance_type, symptoms, diagnoses, availability, weekly_hours,
                     max_distance_km, max_travel_minutes, transport_mode, therapist_gender_wish, procedure_wishes,
                     setting_wish, languages, excluded_therapist_ids, contact_language, version)
SELECT g, 'P-B' || lpad(g::text, 6, '0'), 'searching', 'Vorname', 'Patient ' || g,
       CASE WHEN v.a < 0.62 THEN 'female' WHEN v.a < 0.96 THEN 'male' WHEN v.a < 0.98 THEN 'diverse' ELSE 'unknown' END,
       DATE :today - ((CASE WHEN v.b < 0.05 THEN 14 + random() * 3.9 ELSE 18 + random() * 50 END) * 365.25)::int,
       pc.plz, CASE WHEN v.c < 0.99 THEN pc.latitude + (random() - 0.5) * 0.02 END,
       CASE WHEN v.c < 0.99 THEN pc.longitude + (random() - 0.5) * 0.02 END, 'postcode',
       CASE WHEN v.d < 0.85 THEN 'statutory' WHEN v.d < 0.93 THEN 'private' WHEN v.d < 0.97 THEN 'subsidy'
            ELSE 'self_pay' END,
       ARRAY[]::varchar[],
       CASE WHEN v.e < 0.2 THEN ARRAY['F41.1'] WHEN v.e < 0.4 THEN ARRAY['F32.1', 'F40.1'] ELSE ARRAY[]::varchar[] END,
       (SELECT jsonb_agg(jsonb_build_object('weekday', d, 'start', '08:00', 'end', CASE WHEN v.f < 0.7 THEN '18:00'
                                                                                    ELSE '13:00' END))
        FROM generate_series(0, 4) AS d),
       CASE WHEN v.f < 0.7 THEN 50 ELSE 25 END,
       CASE WHEN v.m >= 0.1 THEN (ARRAY[8, 10, 15, 20, 25, 30])[1 + floor(random() * 6)::int] END,
       CASE WHEN v.m < 0.1 THEN (ARRAY[30, 45, 60])[1 + floor(random() * 3)::int] END,
       CASE WHEN v.h < 0.5 THEN 'transit' WHEN v.h < 0.75 THEN 'car' WHEN v.h < 0.9 THEN 'bike' ELSE 'foot' END,
       CASE WHEN v.i < 0.7 THEN 'any' WHEN v.i < 0.95 THEN 'female' ELSE 'male' END,
       CASE WHEN v.j < 0.55 THEN ARRAY[]::varchar[] WHEN v.j < 0.77 THEN ARRAY['VT'] WHEN v.j < 0.87 THEN ARRAY['TP']
            WHEN v.j < 0.95 THEN ARRAY['TP', 'VT'] WHEN v.j < 0.98 THEN ARRAY['AP'] ELSE ARRAY['ST'] END,
       CASE WHEN v.k < 0.7 THEN 'individual' WHEN v.k < 0.95 THEN 'either' ELSE 'group' END,
       CASE WHEN v.l < 0.95 THEN ARRAY['de'] WHEN v.l < 0.98 THEN ARRAY['de', 'tr'] ELSE ARRAY['en'] END,
       ARRAY[]::int[], 'de', 1
FROM generate_series(1, :searches) AS g
CROSS JOIN LATERAL (
    SELECT random() + g * 0 AS a, random() AS b, random() AS c, random() AS d, random() AS e, random() AS f,
           random() AS m, random() AS h, random() AS i, random() AS j, random() AS k, random() AS l,
           1 + floor(random() * (SELECT count(*) FROM bench_plz))::int AS plz_row
) AS v
JOIN bench_plz pc ON pc.n = v.plz_row;
SELECT setval(pg_get_serial_sequence('patient', 'id'), (SELECT max(id) FROM patient));

INSERT INTO search (id, patient_id, status, started_on, max_parallel_inquiries, relaxations, excluded_therapist_ids,
                    version)
SELECT id, id, 'active', DATE :today - (random() * 183)::int, 3,
       CASE WHEN random() < 0.08 THEN '[{"rule": "distance", "value": 30, "by": "bench", "reason": "few nearby"}]'::jsonb
            ELSE '[]'::jsonb END,
       ARRAY[]::int[], 1
FROM patient;
SELECT setval(pg_get_serial_sequence('search', 'id'), (SELECT max(id) FROM search));

-- history: answered inquiries (declines) and a few open ones, one item each
INSERT INTO inquiry (id, reference, therapist_id, practice_id, status, matching_run, created_at, updated_at,
                     approved_at, sent_at, answered_at, version)
SELECT g, 'BENCH-' || g, t.id, t.practice_id,
       CASE WHEN g % 12 = 0 THEN 'sent' ELSE 'answered' END, 'bench',
       TIMESTAMPTZ :now - (10 + g % 200) * INTERVAL '1 day', TIMESTAMPTZ :now - (g % 200) * INTERVAL '1 day',
       TIMESTAMPTZ :now - (10 + g % 200) * INTERVAL '1 day', TIMESTAMPTZ :now - (9 + g % 200) * INTERVAL '1 day',
       CASE WHEN g % 12 <> 0 THEN TIMESTAMPTZ :now - (g % 200) * INTERVAL '1 day' END, 1
FROM generate_series(1, 6000) AS g
JOIN therapist t ON t.id = 1 + (g * 7919) % :therapists;
SELECT setval(pg_get_serial_sequence('inquiry', 'id'), (SELECT max(id) FROM inquiry));

INSERT INTO inquiry_item (inquiry_id, search_id, outcome, factors, is_exploration, is_conflict, answered_at,
                          created_at)
SELECT i.id, 1 + (i.id * 104729) % :searches,
       CASE WHEN i.status = 'sent' THEN 'pending' WHEN i.id % 4 = 0 THEN 'declined_unsuitable'
            WHEN i.id % 4 = 1 THEN 'declined_other' ELSE 'declined_capacity' END,
       '[]'::jsonb, false, false, i.answered_at, i.created_at
FROM inquiry i;
ANALYZE practice, therapist, patient, search, inquiry, inquiry_item;
