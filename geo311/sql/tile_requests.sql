-- One Mapbox Vector Tile layer "requests": 311 request points with public fields only
-- (never contact). Inputs: :z, :x, :y, :extent, :buffer; filters :service_codes, :statuses,
-- :departments (text[] or NULL for any), :area (JSON text '[{"type":"CD","code":"10"}]' or
-- NULL), :min_age_days / :max_age_days (int or NULL); :limit (most points per tile, newest first).
-- Output: one bytea row. Relies on the GiST index on service_request.location.
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS merc,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => CAST(:buffer AS float8) / :extent),
                        4326) AS geo
),
newest AS (
    -- Pick the newest points first on narrow rows, and only then project and clip those few:
    -- projecting every point in a z10 tile before the LIMIT cost most of the tile's time.
    SELECT r.id, r.service_code, r.status, r.department, r.address, r.requested_at, r.location
    FROM service_request r, bounds b
    WHERE r.location && b.geo
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
    ORDER BY r.requested_at DESC
    LIMIT :limit
),
features AS (
    SELECT n.id, n.service_code, n.status, n.department, n.address,
           to_char(n.requested_at AT TIME ZONE 'America/Los_Angeles', 'YYYY-MM-DD') AS requested,
           floor(extract(epoch FROM now() - n.requested_at) / 86400)::int AS age_days,
           ST_AsMVTGeom(ST_Transform(n.location, 3857), b.merc, :extent, :buffer, true) AS geom
    FROM newest n, bounds b
)
SELECT ST_AsMVT(features, 'requests', :extent, 'geom') AS tile
FROM features
WHERE geom IS NOT NULL
