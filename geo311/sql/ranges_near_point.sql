-- The observed house-number ranges (lines between consecutive known numbers of one street, from
-- `geo311 build reference`) nearest a pin: the street lines of the parts of the City with no
-- centerline. Inputs: :lon, :lat, :k. Output: street parts, the numbers at the ends, the line's
-- length, the distance in metres and where along the line the pin projects (0..1).
-- Relies on idx_street_range_geom (GiST).
SELECT street_key, pre_dir, name, suffix, zip, from_number, to_number, length_m,
       ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
           AS distance_m,
       ST_LineLocatePoint(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) AS fraction
FROM street_range
WHERE parity = 'all'
ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
LIMIT :k
