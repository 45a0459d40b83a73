-- How the City writes a street near a point, when the address layer writes its direction apart
-- (County "S VENICE BLVD") and 311 records spell it into the name ("E SOUTH VENICE BLVD").
-- Counts the City-observed addresses within :radius_m of the point under each spelling: the
-- direction spelled into the name (:worded_key) and the layer's own (:key with :pre_dir).
-- Reads nothing unless some observed address carries :worded_key at all.
-- Inputs: :lon, :lat, :radius_m, :key, :pre_dir, :worded_key.
-- Output: one row per spelling found: street_key, street (as printed), n.
SELECT a.street_key,
       min(concat_ws(' ', a.pre_dir, a.name, a.suffix, a.post_dir)) AS street,
       count(*) AS n
FROM address_point a
WHERE EXISTS (SELECT 1 FROM address_point w
              WHERE w.street_key = :worded_key AND w.kind = 'observed')
  AND a.kind = 'observed'
  AND (a.street_key = :worded_key OR (a.street_key = :key AND a.pre_dir = :pre_dir))
  AND ST_DWithin(a.geom::geography,
                 ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius_m)
GROUP BY a.street_key
