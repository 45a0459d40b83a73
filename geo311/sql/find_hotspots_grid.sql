-- Request counts on a square grid (UTM 11N metres) and each cell's 3x3 neighbourhood sum, the
-- inputs of Getis-Ord Gi* (computed in geo311.hotspots.gi_star).
-- Inputs: the filters of hotspot_requests.sql (:service_codes, :statuses, :departments, :area,
--   :start, :end) and :cell_m (cell side, metres).
-- Output: one row per non-empty cell: column i, row j, count, neighbourhood sum (the cell and its
--   8 neighbours), the cell as GeoJSON; plus, on every row, the study grid's cell count (the
--   bounding box of the matching requests grown by one cell) and the sum and sum of squares of
--   the counts over it (empty cells add nothing to either).
-- Relies on: the indexes of hotspot_requests.sql; the neighbour join is a hash join on (i, j).
-- pts, the filtered requests, is hotspot_requests.sql (the include line below).
WITH pts AS (
    /* hotspot_requests.sql */
),
cells AS (
    SELECT floor(ST_X(geom) / CAST(:cell_m AS float8))::int AS i,
           floor(ST_Y(geom) / CAST(:cell_m AS float8))::int AS j,
           count(*) AS n
    FROM pts
    GROUP BY 1, 2
),
study AS (
    SELECT (max(i) - min(i) + 3)::bigint * (max(j) - min(j) + 3) AS n_cells,
           CAST(sum(n) AS bigint) AS total, CAST(sum(n * n) AS float8) AS sum_sq
    FROM cells
),
local AS (
    SELECT c.i, c.j, c.n, CAST(sum(d.n) AS bigint) AS local_sum
    FROM cells c
    CROSS JOIN generate_series(-1, 1) AS di
    CROSS JOIN generate_series(-1, 1) AS dj
    JOIN cells d ON d.i = c.i + di AND d.j = c.j + dj
    GROUP BY c.i, c.j, c.n
)
SELECT l.i, l.j, l.n, l.local_sum, s.n_cells, s.total, s.sum_sq,
       ST_AsGeoJSON(ST_ForcePolygonCCW(ST_Transform(ST_MakeEnvelope(
           l.i * CAST(:cell_m AS float8), l.j * CAST(:cell_m AS float8),
           (l.i + 1) * CAST(:cell_m AS float8), (l.j + 1) * CAST(:cell_m AS float8), 26911),
           4326)), 6) AS cell_geojson
FROM local l, study s
ORDER BY l.local_sum DESC, l.i, l.j
