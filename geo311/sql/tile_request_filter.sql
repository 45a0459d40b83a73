-- The request filters of the request tiles, one source for tile_requests.sql (points) and the
-- live branch of tile_request_clusters.sql: geo311.tiles splices these lines in where a
-- statement has the comment line /* tile_request_filter.sql */, after a WHERE on the tile's
-- envelope over service_request r. Inputs: :service_codes, :statuses, :departments (text[] or
-- NULL for any), :area (JSON text '[{"type":"CD","code":"10"}]' or NULL; GIN index on
-- service_request.areas), :min_age_days / :max_age_days (int or NULL; whole days since
-- requested_at, as the tiles' age_days).
      AND (CAST(:service_codes AS text[]) IS NULL
           OR r.service_code = ANY(CAST(:service_codes AS text[])))
      AND (CAST(:statuses AS text[]) IS NULL OR r.status = ANY(CAST(:statuses AS text[])))
      AND (CAST(:departments AS text[]) IS NULL
           OR r.department = ANY(CAST(:departments AS text[])))
      AND (CAST(:area AS jsonb) IS NULL OR r.areas @> CAST(:area AS jsonb))
      AND (CAST(:min_age_days AS int) IS NULL
           OR r.requested_at <= now() - make_interval(days => CAST(:min_age_days AS int)))
      AND (CAST(:max_age_days AS int) IS NULL
           OR r.requested_at > now() - make_interval(days => CAST(:max_age_days AS int) + 1))
