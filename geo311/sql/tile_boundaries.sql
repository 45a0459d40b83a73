-- One Mapbox Vector Tile layer "boundaries": areas of the chosen types, one vintage per type.
-- Inputs: :z, :x, :y, :extent, :buffer; :types (text[] or NULL for all); :vintage (text or NULL:
--         the vintage in force on :on); :on (date).
-- Output: one bytea row. Relies on the GiST index on area.geom (whole polygons, not area_part,
--         so the ST_Subdivide cuts are not drawn).
WITH sets AS (
    SELECT DISTINCT ON (type_code) id, type_code, vintage
    FROM boundary_set
    WHERE (CAST(:types AS text[]) IS NULL OR type_code = ANY(CAST(:types AS text[])))
      AND (CAST(:vintage AS text) IS NULL OR vintage = CAST(:vintage AS text))
    ORDER BY type_code,
             GREATEST(COALESCE(valid_from, DATE '0001-01-01') - CAST(:on AS date),
                      CAST(:on AS date) - COALESCE(valid_to - 1, DATE '9999-12-31'), 0),
             valid_from DESC NULLS LAST
),
bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS merc,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => CAST(:buffer AS float8) / :extent),
                        4326) AS geo
),
features AS (
    SELECT a.id, s.type_code AS type, s.vintage, a.code, a.name,
           ST_AsMVTGeom(ST_Transform(a.geom, 3857), b.merc, :extent, :buffer, true) AS geom
    FROM area a
    JOIN sets s ON s.id = a.set_id
    CROSS JOIN bounds b
    WHERE a.geom && b.geo
)
SELECT ST_AsMVT(features, 'boundaries', :extent, 'geom') AS tile
FROM features
WHERE geom IS NOT NULL
