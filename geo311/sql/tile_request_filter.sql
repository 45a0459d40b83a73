-- The request filters of the request tiles, one source for tile_requests.sql (points) and the
-- live branch of tile_request_clusters.sql: included where a statement has the line
-- /* tile_request_filter.sql */, after a WHERE on the tile's envelope over service_request r
-- (geo311.db.with_includes). Inputs: those of request_filter.sql (type, status, department,
-- area) and :min_age_days / :max_age_days (int or NULL; whole days since requested_at, as the
-- tiles' age_days).
      /* request_filter.sql */
      AND (CAST(:min_age_days AS int) IS NULL
           OR r.requested_at <= now() - make_interval(days => CAST(:min_age_days AS int)))
      AND (CAST(:max_age_days AS int) IS NULL
           OR r.requested_at > now() - make_interval(days => CAST(:max_age_days AS int) + 1))
