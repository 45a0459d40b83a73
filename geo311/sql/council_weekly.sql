-- Requests received per LA calendar week (Monday) and type in one council district.
-- Inputs: :area (jsonb), :since and :as_of (timestamptz; since inclusive, as_of exclusive).
-- Output: week (date), service_code, count; by week then type.
-- Relies on: GIN ix_service_request_areas; ix_service_request_requested for the window.
SELECT CAST(date_trunc('week', r.requested_at AT TIME ZONE 'America/Los_Angeles') AS date) AS week,
       r.service_code, count(*) AS n
FROM service_request r
WHERE r.areas @> CAST(:area AS jsonb)
  AND r.requested_at >= CAST(:since AS timestamptz)
  AND r.requested_at < CAST(:as_of AS timestamptz)
GROUP BY 1, 2
ORDER BY 1, 2
