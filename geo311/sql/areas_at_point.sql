-- Areas of every type covering one point, each type in the vintage in force on :on.
-- Inputs: :lon, :lat (WGS84), :on (date), :types (text[] or NULL for all).
-- Output: type_code, vintage, code, name, area_id. Relies on the GiST index on area_part.geom.
WITH sets AS (
    SELECT DISTINCT ON (type_code) id, type_code, vintage
    FROM boundary_set
    WHERE CAST(:types AS text[]) IS NULL OR type_code = ANY(CAST(:types AS text[]))
    ORDER BY type_code,
             GREATEST(COALESCE(valid_from, DATE '0001-01-01') - CAST(:on AS date),
                      CAST(:on AS date) - COALESCE(valid_to - 1, DATE '9999-12-31'), 0),
             valid_from DESC NULLS LAST
)
SELECT DISTINCT s.type_code, s.vintage, a.code, a.name, a.id AS area_id
FROM area_part p
JOIN sets s ON s.id = p.set_id
JOIN area a ON a.id = p.area_id
WHERE ST_Covers(p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY s.type_code, a.code
