-- Merge proposals: each open, unlinked request with an earlier open request of the same type
-- within the type's duplicate_radius_m and duplicate_window_days; the nearest earlier one survives.
-- Inputs: :limit. Outputs: duplicate_id, survivor_id, service_code, distance_m, days_apart.
-- Relies on the GiST index on service_request.location through the && box (see
-- request_duplicates.sql) and ix_service_request_status.
SELECT DISTINCT ON (d.id)
       d.id AS duplicate_id, s.id AS survivor_id, d.service_code,
       ST_Distance(s.location::geography, d.location::geography) AS distance_m,
       (EXTRACT(EPOCH FROM (d.requested_at - s.requested_at)) / 86400.0)::float8 AS days_apart
FROM service_request d
JOIN service_type t ON t.code = d.service_code
JOIN service_request s ON s.service_code = d.service_code
     AND (s.requested_at, s.id) < (d.requested_at, d.id)
WHERE d.status <> 'closed' AND d.duplicate_of IS NULL AND s.status <> 'closed'
  AND s.location && ST_Expand(d.location, t.duplicate_radius_m / 90000.0)
  AND ST_DWithin(s.location::geography, d.location::geography, t.duplicate_radius_m)
  AND d.requested_at - s.requested_at <= make_interval(days => t.duplicate_window_days)
ORDER BY d.id, distance_m, s.id
LIMIT :limit
