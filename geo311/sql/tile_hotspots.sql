-- One Mapbox Vector Tile layer "hotspots": DBSCAN clusters (per service type, metres in UTM 11N)
-- of the requests in the tile and its margin, drawn as zones (hull grown by eps/2).
-- Inputs: :z, :x, :y, :extent, :buffer; :margin_m (requests this far outside the tile still
--   count, so a cluster on the tile edge looks the same from both sides); the request tiles'
--   filters (tile_request_filter.sql: type, status, department, area, age); :eps_codes,
--   :eps_values, :default_eps_m, :min_points, :weeks_since as in find_hotspots.sql; :limit (most
--   points read).
-- Output: one bytea row. Relies on the GiST index on service_request.location.
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS merc,
           ST_Transform(ST_Expand(ST_Transform(ST_TileEnvelope(:z, :x, :y), 26911),
                                  CAST(:margin_m AS float8)), 4326) AS geo
),
eps AS (
    SELECT code, eps_m
    FROM unnest(CAST(:eps_codes AS text[]), CAST(:eps_values AS float8[])) AS t(code, eps_m)
),
pts AS (
    SELECT r.service_code, r.status, r.requested_at,
           ST_Transform(r.location, 26911) AS geom,
           COALESCE(e.eps_m, CAST(:default_eps_m AS float8)) AS eps_m
    FROM service_request r
    CROSS JOIN bounds b
    LEFT JOIN eps e ON e.code = r.service_code
    WHERE r.location && b.geo
      /* tile_request_filter.sql */
    ORDER BY r.requested_at DESC
    LIMIT :limit
),
clustered AS (
    SELECT p.*,
           ST_ClusterDBSCAN(p.geom, eps => p.eps_m, minpoints => CAST(:min_points AS int))
               OVER (PARTITION BY p.service_code) AS cid
    FROM pts p
),
clusters AS (
    SELECT service_code, count(*) AS count,
           count(*) FILTER (WHERE status <> 'closed') AS open_count,
           count(DISTINCT date_trunc('week', requested_at AT TIME ZONE 'America/Los_Angeles'))
               FILTER (WHERE requested_at >= CAST(:weeks_since AS timestamptz)) AS weeks_active,
           ST_Buffer(ST_ConvexHull(ST_Collect(geom)), max(eps_m) / 2) AS zone
    FROM clustered
    WHERE cid IS NOT NULL
    GROUP BY service_code, cid
),
features AS (
    SELECT c.service_code, c.count, c.open_count, c.weeks_active,
           ST_AsMVTGeom(ST_Transform(c.zone, 3857), b.merc, :extent, :buffer, true) AS geom
    FROM clusters c, bounds b
)
SELECT ST_AsMVT(features, 'hotspots', :extent, 'geom') AS tile
FROM features
WHERE geom IS NOT NULL
