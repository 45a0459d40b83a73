-- One Mapbox Vector Tile layer "requests" at low zoom: the matching requests grouped on a square
-- grid of :cells x :cells cells per tile (4 x 4: a cell is 64 px of a 256 px tile), one point
-- feature per non-empty cell at the mean position of its requests, with properties count,
-- oldest_days and newest_days (whole days, as age_days of the point features), service_code (the
-- most common type in the cell) and cluster = true. Inputs: :z, :x, :y, :extent, :buffer, :cells;
-- filters exactly as in tile_requests.sql (the WHERE below is the same text after the envelope
-- line; tests/api/test_tiles.py checks it). Output: one bytea row.
-- Cells are cut from the tile itself (no buffer), half open on the east and south edges, so a
-- request counts in exactly one tile and one cell: the counts of a tile sum to its requests.
-- Every matching request is counted (no LIMIT), so the cost grows with the requests in the tile.
-- The envelope is inline so a one-shot plan sees a constant: a bitmap scan of
-- ix_service_request_location_3857 (or a seq scan when the tile holds most of the table), then a
-- sort and group by cell. Measured on 500,000 synthetic requests (2 loaded cores), the z10 tile
-- over central LA (317,000 requests) takes ~0.75-1 s unfiltered and ~0.1-0.15 s with status=open.
WITH picked AS (
    SELECT r.service_code, r.requested_at,
           ST_X(r.location_3857) AS mx, ST_Y(r.location_3857) AS my
    FROM service_request r
    WHERE r.location_3857 && ST_TileEnvelope(:z, :x, :y)
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
),
celled AS (
    SELECT p.service_code, p.requested_at, p.mx, p.my,
           floor((p.mx - ST_XMin(ST_TileEnvelope(:z, :x, :y))) * :cells
                 / (ST_XMax(ST_TileEnvelope(:z, :x, :y)) - ST_XMin(ST_TileEnvelope(:z, :x, :y))))
               AS col,
           floor((ST_YMax(ST_TileEnvelope(:z, :x, :y)) - p.my) * :cells
                 / (ST_YMax(ST_TileEnvelope(:z, :x, :y)) - ST_YMin(ST_TileEnvelope(:z, :x, :y))))
               AS row
    FROM picked p
),
clusters AS (
    SELECT count(*) AS count,
           floor(extract(epoch FROM now() - min(c.requested_at)) / 86400)::int AS oldest_days,
           floor(extract(epoch FROM now() - max(c.requested_at)) / 86400)::int AS newest_days,
           mode() WITHIN GROUP (ORDER BY c.service_code) AS service_code,
           ST_SetSRID(ST_MakePoint(avg(c.mx), avg(c.my)), 3857) AS centre
    FROM celled c
    WHERE c.col >= 0 AND c.col < :cells AND c.row >= 0 AND c.row < :cells
    GROUP BY c.col, c.row
),
features AS (
    SELECT k.count, k.oldest_days, k.newest_days, k.service_code, true AS cluster,
           ST_AsMVTGeom(k.centre, ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM clusters k
)
SELECT ST_AsMVT(features, 'requests', :extent, 'geom') AS tile
FROM features
WHERE geom IS NOT NULL
