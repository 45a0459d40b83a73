-- One Mapbox Vector Tile layer "requests" at low zoom: the matching requests grouped on a square
-- grid of :cells x :cells cells per tile (4 x 4: a cell is 64 px of a 256 px tile), one point
-- feature per non-empty cell at the mean position of its requests, with properties count,
-- oldest_days and newest_days (whole days, as age_days of the point features), service_code (the
-- most common type in the cell; a tie goes to the first code in sort order) and cluster = true.
-- Inputs: :z, :x, :y, :extent, :buffer, :cells, :cell_shift (a request cell, a z14 tile of
-- request_cells.sql, lies in cluster cell (cx >> :cell_shift, cy >> :cell_shift) of the
-- world: 12 - z at 4 cells a tile), :from_cells, and the filters of tile_request_filter.sql.
-- Output: one bytea row.
-- A request counts in the cluster cell holding its request cell (request_cell_col/_row of its
-- web-mercator point: half open on the east and south edges), so it counts in exactly one tile
-- and one cell, and the counts of a tile sum to its requests.
-- Two sources of the same per-cell, per-type partial sums (count, x and y in millimetres,
-- oldest, newest), chosen by :from_cells (a one-shot plan runs only that branch):
--   * :from_cells true (filters on service_code, status and department only): request_cell,
--     the summary kept exact by triggers (request_cells.sql); a range scan of its primary key,
--     a few thousand rows at z10 over central LA however many requests the tile holds;
--   * :from_cells false (an area or an age filter, which the summary does not key): every
--     matching request, counted live (bitmap scan of ix_service_request_location_3857, the
--     filters spliced in by geo311.tiles at the comment line); the cost grows with the requests
--     in the tile (~1 s for the 317,000 of a central z10 tile among 500,000 requests).
WITH live AS (
    SELECT (request_cell_col(ST_X(r.location_3857)) >> :cell_shift) - :x * :cells AS col,
           (request_cell_row(ST_Y(r.location_3857)) >> :cell_shift) - :y * :cells AS row,
           r.service_code, count(*) AS n,
           sum(round(ST_X(r.location_3857) * 1000)::bigint) AS sum_x_mm,
           sum(round(ST_Y(r.location_3857) * 1000)::bigint) AS sum_y_mm,
           min(r.requested_at) AS oldest, max(r.requested_at) AS newest
    FROM service_request r
    WHERE NOT CAST(:from_cells AS boolean)
      AND r.location_3857 && ST_TileEnvelope(:z, :x, :y)
      /* tile_request_filter.sql */
    GROUP BY 1, 2, 3
),
summary AS (
    SELECT (c.cx >> :cell_shift) - :x * :cells AS col, (c.cy >> :cell_shift) - :y * :cells AS row,
           c.service_code, sum(c.n) AS n, sum(c.sum_x_mm) AS sum_x_mm,
           sum(c.sum_y_mm) AS sum_y_mm, min(c.oldest) AS oldest, max(c.newest) AS newest
    FROM request_cell c
    WHERE CAST(:from_cells AS boolean)
      AND c.cx BETWEEN (:x * :cells) << :cell_shift AND (((:x + 1) * :cells) << :cell_shift) - 1
      AND c.cy BETWEEN (:y * :cells) << :cell_shift AND (((:y + 1) * :cells) << :cell_shift) - 1
      AND (CAST(:service_codes AS text[]) IS NULL
           OR c.service_code = ANY(CAST(:service_codes AS text[])))
      AND (CAST(:statuses AS text[]) IS NULL OR c.status = ANY(CAST(:statuses AS text[])))
      AND (CAST(:departments AS text[]) IS NULL
           OR c.department = ANY(CAST(:departments AS text[])))
    GROUP BY 1, 2, 3
),
typed AS (
    SELECT * FROM live
    UNION ALL
    SELECT * FROM summary
),
clusters AS (
    SELECT sum(t.n)::int AS count,
           floor(extract(epoch FROM now() - min(t.oldest)) / 86400)::int AS oldest_days,
           floor(extract(epoch FROM now() - max(t.newest)) / 86400)::int AS newest_days,
           (array_agg(t.service_code ORDER BY t.n DESC, t.service_code))[1] AS service_code,
           ST_SetSRID(ST_MakePoint(sum(t.sum_x_mm) / sum(t.n) / 1000,
                                   sum(t.sum_y_mm) / sum(t.n) / 1000), 3857) AS centre
    FROM typed t
    WHERE t.col >= 0 AND t.col < :cells AND t.row >= 0 AND t.row < :cells
    GROUP BY t.col, t.row
),
features AS (
    SELECT k.count, k.oldest_days, k.newest_days, k.service_code, true AS cluster,
           ST_AsMVTGeom(k.centre, ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM clusters k
)
SELECT ST_AsMVT(features, 'requests', :extent, 'geom') AS tile
FROM features
WHERE geom IS NOT NULL
