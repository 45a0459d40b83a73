-- One Mapbox Vector Tile layer "streets" of street centerline segments.
-- Inputs: :z, :x, :y (tile address, checked by geo311.tiles), :extent (4096), :buffer (64),
--         :min_zoom_local (below this zoom only arterials are drawn).
-- Output: one bytea row (empty bytea when the tile has no features).
-- Relies on the GiST index on street_segment.geom (the envelope is transformed to 4326 once).
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS merc,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => CAST(:buffer AS float8) / :extent),
                        4326) AS geo
),
features AS (
    SELECT s.id, s.full_name AS name, s.street_class, s.source,
           ST_AsMVTGeom(ST_Transform(s.geom, 3857), b.merc, :extent, :buffer, true) AS geom
    FROM street_segment s, bounds b
    WHERE s.geom && b.geo
      AND (:z >= :min_zoom_local
           OR s.street_class IS NULL
           OR s.street_class NOT IN ('Local Street - Standard', 'Private', 'Unidentified'))
)
SELECT ST_AsMVT(features, 'streets', :extent, 'geom') AS tile
FROM features
WHERE geom IS NOT NULL
