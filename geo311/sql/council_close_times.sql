-- Median (and 90th percentile) days from request to close in one council district, per type
-- and overall (service_code NULL), for requests closed in the window.
-- Inputs: :area (jsonb), :since and :as_of (timestamptz).
-- Output: service_code (NULL = all types), closed count, median_days, p90_days.
-- Relies on: GIN ix_service_request_areas.
SELECT r.service_code, count(*) AS closed,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM r.closed_at - r.requested_at) / 86400) AS median_days,
       percentile_cont(0.9) WITHIN GROUP (
           ORDER BY extract(epoch FROM r.closed_at - r.requested_at) / 86400) AS p90_days
FROM service_request r
WHERE r.areas @> CAST(:area AS jsonb)
  AND r.status = 'closed'
  AND r.closed_at >= CAST(:since AS timestamptz)
  AND r.closed_at < CAST(:as_of AS timestamptz)
  AND r.closed_at >= r.requested_at
GROUP BY GROUPING SETS ((r.service_code), ())
ORDER BY r.service_code NULLS FIRST
