-- The known addresses (reference and observed) nearest a pin, within a small box, to draw each
-- street's line. Inputs: :lon, :lat, :box_deg (half-width of the box in degrees), :k (at most this
-- many, nearest first, so dense blocks cost no more than sparse ones). Relies on GiST address_point.geom.
SELECT street_key, pre_dir, name, suffix, post_dir, house_number, number_suffix, zip, kind, source,
       ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM address_point
WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :box_deg)
  AND kind IN ('address', 'observed') AND house_number IS NOT NULL
ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
LIMIT :k
