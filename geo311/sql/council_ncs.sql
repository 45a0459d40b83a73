-- The neighborhood councils of one council district: NC areas of the vintage in force on :on
-- with at least :min_share of their area inside the district area :district_id.
-- Inputs: :district_id (area.id of the CD), :on (date), :min_share (0..1).
-- Output: code, name, share inside, GeoJSON geometry (simplified ~5 m); by name.
-- Relies on: GiST on area.geom.
WITH cd AS (SELECT geom FROM area WHERE id = :district_id),
nc_set AS (
    SELECT id FROM boundary_set
    WHERE type_code = 'NC'
    ORDER BY (COALESCE(valid_from, DATE '0001-01-01') <= CAST(:on AS date)
              AND CAST(:on AS date) < COALESCE(valid_to, DATE '9999-12-31')) DESC,
             valid_from DESC NULLS LAST
    LIMIT 1
)
SELECT a.code, a.name,
       ST_Area(ST_Intersection(a.geom, cd.geom)) / NULLIF(ST_Area(a.geom), 0) AS share,
       ST_AsGeoJSON(ST_ForcePolygonCCW(ST_SimplifyPreserveTopology(a.geom, 0.00005)), 6)
           AS geojson
FROM area a, cd, nc_set
WHERE a.set_id = nc_set.id
  AND a.geom && cd.geom
  AND ST_Intersects(a.geom, cd.geom)
  AND ST_Area(ST_Intersection(a.geom, cd.geom)) >= CAST(:min_share AS float8) * ST_Area(a.geom)
ORDER BY a.name
