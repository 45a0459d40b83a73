-- Open request points of one council district (public fields), newest first, for maps.
-- Inputs: :area (jsonb), :as_of (timestamptz), :limit.
-- Output: id, service_code, status, address, requested_at, lon, lat.
-- Relies on: GIN ix_service_request_areas.
SELECT r.id, r.service_code, r.status, r.address, r.requested_at,
       ST_X(r.location) AS lon, ST_Y(r.location) AS lat
FROM service_request r
WHERE r.areas @> CAST(:area AS jsonb)
  AND r.status <> 'closed'
  AND r.location IS NOT NULL
  AND r.requested_at < CAST(:as_of AS timestamptz)
ORDER BY r.requested_at DESC, r.id DESC
LIMIT :limit
