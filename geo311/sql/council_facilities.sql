-- Facilities inside one council district area.
-- Inputs: :district_id (area.id of the CD), :limit.
-- Output: type, name, address, lon, lat; by type then name.
-- Relies on: GiST on facility.geom and area.geom.
SELECT f.type, f.name, f.address, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat
FROM facility f, area a
WHERE a.id = :district_id
  AND f.geom && a.geom
  AND ST_Covers(a.geom, f.geom)
ORDER BY f.type, f.name
LIMIT :limit
