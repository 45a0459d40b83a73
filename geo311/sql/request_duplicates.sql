-- Open requests of the same type near one request (possible duplicates), nearest first.
-- Inputs: :request_id, :limit. Outputs: id, status, address, requested_at, distance_m, age_days.
-- The type's duplicate_radius_m and duplicate_window_days come from service_type. The && box
-- (radius / 90 000 degrees, wider than a metre-degree anywhere in LA) lets the GiST index on
-- service_request.location pick candidates before the exact geography distance.
SELECT o.id, o.status, o.address, o.requested_at,
       ST_Distance(o.location::geography, r.location::geography) AS distance_m,
       (EXTRACT(EPOCH FROM (now() - o.requested_at)) / 86400.0)::float8 AS age_days
FROM service_request r
JOIN service_type t ON t.code = r.service_code
JOIN service_request o ON o.service_code = r.service_code AND o.id <> r.id
WHERE r.id = :request_id
  AND o.status <> 'closed'
  AND o.location && ST_Expand(r.location, t.duplicate_radius_m / 90000.0)
  AND ST_DWithin(o.location::geography, r.location::geography, t.duplicate_radius_m)
  AND o.requested_at BETWEEN r.requested_at - make_interval(days => t.duplicate_window_days)
                         AND r.requested_at + make_interval(days => t.duplicate_window_days)
ORDER BY distance_m, o.id
LIMIT :limit
