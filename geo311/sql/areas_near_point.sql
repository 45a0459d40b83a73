-- Areas within :radius_m of a point (distance 0 = covering), per type in the vintage in force on :on.
-- Used by locate to pick one area per type and to say when a pin is near a district line.
-- Inputs: :lon, :lat, :on (date), :radius_m. Output: type_code, vintage, code, name, area_id,
-- distance_m (to the nearest of the area's subdivided parts). Relies on GiST area_part.geom;
-- the degree pre-filter is wide enough at LA's latitude (1 degree of longitude ~ 92 km).
WITH sets AS (
    SELECT DISTINCT ON (type_code) id, type_code, vintage
    FROM boundary_set
    ORDER BY type_code,
             GREATEST(COALESCE(valid_from, DATE '0001-01-01') - CAST(:on AS date),
                      CAST(:on AS date) - COALESCE(valid_to - 1, DATE '9999-12-31'), 0),
             valid_from DESC NULLS LAST
), pt AS (
    SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g
)
SELECT type_code, vintage, code, name, area_id, distance_m FROM (
    SELECT s.type_code, s.vintage, a.code, a.name, a.id AS area_id,
           MIN(CASE WHEN ST_Covers(p.geom, pt.g) THEN 0
                    ELSE ST_Distance(p.geom::geography, pt.g::geography) END) AS distance_m
    FROM pt
    JOIN area_part p ON ST_DWithin(p.geom, pt.g, CAST(:radius_m AS float8) / 80000.0)
    JOIN sets s ON s.id = p.set_id
    JOIN area a ON a.id = p.area_id
    GROUP BY s.type_code, s.vintage, a.code, a.name, a.id
) AS near
WHERE distance_m <= :radius_m
ORDER BY type_code, distance_m, code
