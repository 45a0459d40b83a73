-- Where to answer a whole street: per prefix direction, the centre of the street's points (its
-- segments' points on surface and its known addresses); when that centre falls outside the City
-- and the street has points inside it, the one of those nearest the centre instead, so "Sunset
-- Blvd" answers in Los Angeles, not in West Hollywood where the centre of the whole street lies.
-- Inputs: :key (street key), :zip (text or NULL: only addresses in that ZIP count).
-- Output: up to 3 rows, most points first: pre_dir, lon, lat, n (how many points).
-- The in-City test runs on the points in order of distance and stops at the first inside
-- (OFFSET 0 keeps the sort below the filter), so a long street costs a few tests, not one a point.
WITH points AS MATERIALIZED (
    SELECT pre_dir, ST_PointOnSurface(geom) AS geom FROM street_segment WHERE street_key = :key
    UNION ALL
    SELECT pre_dir, geom FROM address_point WHERE street_key = :key
        AND (CAST(:zip AS text) IS NULL OR zip = :zip)
), centres AS (
    SELECT pre_dir, ST_Centroid(ST_Collect(geom)) AS c, count(*) AS n FROM points GROUP BY pre_dir
)
SELECT c.pre_dir, ST_X(spot.geom) AS lon, ST_Y(spot.geom) AS lat, c.n
FROM centres c
CROSS JOIN LATERAL (
    SELECT geom FROM (
        (SELECT c.c AS geom, 0 AS rank
         WHERE EXISTS (SELECT 1 FROM area_part ap JOIN boundary_set s ON s.id = ap.set_id
                       WHERE s.type_code = 'CITY' AND ap.geom && c.c
                         AND ST_Intersects(ap.geom, c.c))
            OR NOT EXISTS (SELECT 1 FROM boundary_set WHERE type_code = 'CITY'))
        UNION ALL
        (SELECT geom, 1 FROM (
            SELECT p.geom FROM points p WHERE p.pre_dir IS NOT DISTINCT FROM c.pre_dir
            ORDER BY p.geom <-> c.c, ST_X(p.geom), ST_Y(p.geom) OFFSET 0
         ) nearest_first
         WHERE EXISTS (SELECT 1 FROM area_part ap JOIN boundary_set s ON s.id = ap.set_id
                       WHERE s.type_code = 'CITY' AND ap.geom && nearest_first.geom
                         AND ST_Intersects(ap.geom, nearest_first.geom))
         LIMIT 1)
        UNION ALL
        SELECT c.c, 2
    ) choices ORDER BY rank LIMIT 1
) spot
ORDER BY c.n DESC, c.pre_dir NULLS LAST
LIMIT 3
