-- Nearest street segments to a point: KNN (<->) on the GiST index of street_segment.geom.
-- Inputs: :lon, :lat (WGS84), :k (how many). Output: segment columns, WKB geometry and the true
-- distance in metres (geography), so the caller can re-rank the few KNN candidates exactly.
SELECT s.id, s.source, s.full_name, s.pre_dir, s.name, s.suffix, s.street_key,
       s.l_from, s.l_to, s.r_from, s.r_to, s.l_zip, s.r_zip, s.from_street, s.to_street,
       ST_AsBinary(s.geom) AS wkb,
       ST_Distance(s.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
           AS distance_m
FROM street_segment s
ORDER BY s.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
LIMIT :k
