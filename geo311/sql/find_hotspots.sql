-- Density clusters of 311 requests: ST_ClusterDBSCAN per service type, in metres (UTM 11N).
-- Inputs: the filters of hotspot_requests.sql (:service_codes, :statuses, :departments, :area,
--   :start, :end); :eps_codes text[] + :eps_values float8[] (per-type distance, metres) with
--   :default_eps_m for the rest; :min_points; :weeks_since (timestamptz: start of the persistence
--   window); :limit.
-- Output: one row per cluster, largest first: type, counts, dates, distinct active weeks, the
--   centroid (lon/lat and UTM x/y), radius, zone (hull grown by eps/2) as GeoJSON, street metres
--   inside the zone (NULL when no street is there).
-- Relies on: the indexes of hotspot_requests.sql, GiST on street_segment.geom.
-- pts, the filtered requests, is hotspot_requests.sql (the include line below).
-- ST_ClusterDBSCAN reads eps once per window partition; partitions are per service type and eps
-- is constant inside one, so each type gets its own distance.
WITH pts AS (
    /* hotspot_requests.sql */
),
eps AS (
    SELECT code, eps_m
    FROM unnest(CAST(:eps_codes AS text[]), CAST(:eps_values AS float8[])) AS t(code, eps_m)
),
sized AS (
    SELECT p.*, COALESCE(e.eps_m, CAST(:default_eps_m AS float8)) AS eps_m
    FROM pts p
    LEFT JOIN eps e ON e.code = p.service_code
),
clustered AS (
    SELECT s.*,
           ST_ClusterDBSCAN(s.geom, eps => s.eps_m, minpoints => CAST(:min_points AS int))
               OVER (PARTITION BY s.service_code) AS cid
    FROM sized s
),
clusters AS (
    SELECT service_code, cid, count(*) AS n,
           count(*) FILTER (WHERE status <> 'closed') AS open_n,
           min(requested_at) AS first_at, max(requested_at) AS last_at,
           count(DISTINCT date_trunc('week', requested_at AT TIME ZONE 'America/Los_Angeles'))
               FILTER (WHERE requested_at >= CAST(:weeks_since AS timestamptz)) AS weeks_active,
           max(eps_m) AS eps_m,
           ST_Collect(geom) AS g,
           ST_Centroid(ST_Collect(geom)) AS c
    FROM clustered
    WHERE cid IS NOT NULL
    GROUP BY service_code, cid
),
zoned AS (
    SELECT cl.*, ST_Buffer(ST_ConvexHull(cl.g), cl.eps_m / 2) AS zone
    FROM clusters cl
    ORDER BY cl.n DESC, cl.last_at DESC
    LIMIT :limit
)
SELECT z.service_code, z.n, z.open_n, z.first_at, z.last_at, z.weeks_active, z.eps_m,
       ST_X(z.c) AS x_m, ST_Y(z.c) AS y_m,
       ST_X(ST_Transform(z.c, 4326)) AS lon, ST_Y(ST_Transform(z.c, 4326)) AS lat,
       ST_MaxDistance(z.c, z.g) AS radius_m,
       ST_AsGeoJSON(ST_ForcePolygonCCW(ST_Transform(z.zone, 4326)), 6) AS zone_geojson,
       (SELECT sum(ST_Length(ST_Intersection(ST_Transform(s.geom, 26911), z.zone)))
        FROM street_segment s
        WHERE s.geom && ST_Transform(z.zone, 4326)
          AND ST_Intersects(ST_Transform(s.geom, 26911), z.zone)) AS street_m
FROM zoned z
ORDER BY z.n DESC, z.last_at DESC
