-- One Mapbox Vector Tile layer "facilities" (police and fire stations, libraries...).
-- Inputs: :z, :x, :y, :extent, :buffer; :types (text[] or NULL for every type).
-- Output: one bytea row. Relies on the GiST index on facility.geom.
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS merc,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => CAST(:buffer AS float8) / :extent),
                        4326) AS geo
),
features AS (
    SELECT f.id, f.type, f.name, f.address,
           ST_AsMVTGeom(ST_Transform(f.geom, 3857), b.merc, :extent, :buffer, true) AS geom
    FROM facility f, bounds b
    WHERE f.geom && b.geo
      AND (CAST(:types AS text[]) IS NULL OR f.type = ANY(CAST(:types AS text[])))
)
SELECT ST_AsMVT(features, 'facilities', :extent, 'geom') AS tile
FROM features
WHERE geom IS NOT NULL
