-- Nearest address points (kinds 'address' and 'observed') to a point: KNN on address_point.geom.
-- Inputs: :lon, :lat (WGS84), :k. Output: address columns, lon/lat and distance in metres.
SELECT a.id, a.kind, a.source, a.house_number, a.number_suffix, a.pre_dir, a.name, a.suffix,
       a.post_dir, a.zip, a.full_address, a.street_key, a.confidence,
       ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,
       ST_Distance(a.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
           AS distance_m
FROM address_point a
WHERE a.kind IN ('address', 'observed')
ORDER BY a.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
LIMIT :k
