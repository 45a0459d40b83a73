-- The requests both hotspot statistics are computed over: located, matching the filters, with
-- the point in metres (UTM 11N). find_hotspots.sql and find_hotspots_grid.sql include it
-- (geo311.db.with_includes) as their first CTE, pts, so the filters are written once; PostgreSQL
-- inlines a CTE read once, so each statement plans as if written inline.
-- Inputs: those of request_filter.sql (type, status, department, area), :start, :end
--   (timestamptz or NULL, end exclusive).
-- Output: id, service_code, status, requested_at, geom (the location in EPSG:26911).
-- Relies on: ix_service_request_type_requested (type and date), ix_service_request_areas
--   (area), ix_service_request_status; with no filter, a sequential scan.
SELECT r.id, r.service_code, r.status, r.requested_at, ST_Transform(r.location, 26911) AS geom
FROM service_request r
WHERE r.location IS NOT NULL
  /* request_filter.sql */
  AND (CAST(:start AS timestamptz) IS NULL OR r.requested_at >= CAST(:start AS timestamptz))
  AND (CAST(:end AS timestamptz) IS NULL OR r.requested_at < CAST(:end AS timestamptz))
