-- Open requests of one council district by type and age on :as_of.
-- Inputs: :area (jsonb like [{"type":"CD","code":"10"}]), :as_of (timestamptz, end of the day).
-- Output: one row per type: code, English and Spanish names, open count and counts aged
--   under 7 days, 7-30, 30-90 and over 90 days; most open first.
-- Relies on: GIN ix_service_request_areas (jsonb_path_ops) for the district.
SELECT r.service_code,
       COALESCE(t.name_en, r.service_code) AS name_en,
       COALESCE(t.name_es, r.service_code) AS name_es,
       count(*) AS open,
       count(*) FILTER (WHERE r.requested_at > CAST(:as_of AS timestamptz) - interval '7 days')
           AS age_0_7,
       count(*) FILTER (WHERE r.requested_at <= CAST(:as_of AS timestamptz) - interval '7 days'
                          AND r.requested_at > CAST(:as_of AS timestamptz) - interval '30 days')
           AS age_7_30,
       count(*) FILTER (WHERE r.requested_at <= CAST(:as_of AS timestamptz) - interval '30 days'
                          AND r.requested_at > CAST(:as_of AS timestamptz) - interval '90 days')
           AS age_30_90,
       count(*) FILTER (WHERE r.requested_at <= CAST(:as_of AS timestamptz) - interval '90 days')
           AS age_90_plus
FROM service_request r
LEFT JOIN service_type t ON t.code = r.service_code
WHERE r.areas @> CAST(:area AS jsonb)
  AND r.status <> 'closed'
  AND r.requested_at < CAST(:as_of AS timestamptz)
GROUP BY r.service_code, t.name_en, t.name_es
ORDER BY open DESC, r.service_code
