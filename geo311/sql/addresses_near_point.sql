-- Known addresses (reference and observed) in a small box around a pin, to draw each street's line.
-- Inputs: :lon, :lat, :box_deg (half-width of the box in degrees). Output: address columns, lon/lat.
-- Relies on the GiST index on address_point.geom.
SELECT street_key, pre_dir, name, suffix, post_dir, house_number, number_suffix, zip, kind, source,
       ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM address_point
WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :box_deg)
  AND kind IN ('address', 'observed') AND house_number IS NOT NULL
LIMIT 3000
