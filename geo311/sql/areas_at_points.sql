-- Set-based form of areas_at_point for imports: many points, each with its own date, in one statement.
-- Inputs: :lons, :lats (float8[]), :dates (date[]), :types (text[] or NULL for all).
-- Output: idx (1-based position in the arrays), type_code, vintage, code, name.
-- Relies on the GiST index on area_part (set_id, geom) (btree_gist), so each point probes only the
-- chosen sets' parts; the vintage choice is made once per distinct date.
WITH pts AS (
    SELECT t.idx, t.d, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS g
    FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]), CAST(:dates AS date[]))
         WITH ORDINALITY AS t(lon, lat, d, idx)
    WHERE t.lon IS NOT NULL AND t.lat IS NOT NULL
),
choice AS (
    SELECT days.d, s.id AS set_id, s.type_code, s.vintage
    FROM (SELECT DISTINCT d FROM pts) AS days
    CROSS JOIN LATERAL (
        SELECT DISTINCT ON (type_code) id, type_code, vintage
        FROM boundary_set
        WHERE CAST(:types AS text[]) IS NULL OR type_code = ANY(CAST(:types AS text[]))
        ORDER BY type_code,
                 GREATEST(COALESCE(valid_from, DATE '0001-01-01') - days.d,
                          days.d - COALESCE(valid_to - 1, DATE '9999-12-31'), 0),
                 valid_from DESC NULLS LAST
    ) AS s
)
SELECT DISTINCT pts.idx, c.type_code, c.vintage, a.code, a.name
FROM pts
JOIN choice c ON c.d = pts.d
JOIN area_part p ON p.set_id = c.set_id AND ST_Covers(p.geom, pts.g)
JOIN area a ON a.id = p.area_id
ORDER BY pts.idx, c.type_code, a.code
