-- LA's address grid: where numbers near :number fall along the axis of streets with the same prefix
-- direction around a place. E/W-prefixed streets number along longitude, N/S-prefixed along latitude.
-- Inputs: :pre_dir ('N','S','E','W'), :number, :lon, :lat (a point of the street), :radius_deg.
-- Output: median_lon, median_lat, n (how many points agreed). Relies on ix_address_point_number.
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_X(geom)) AS median_lon,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_Y(geom)) AS median_lat,
       count(*) AS n
FROM address_point
WHERE house_number BETWEEN :number - 25 AND :number + 25
  AND pre_dir = :pre_dir
  AND kind IN ('address', 'observed')
  AND geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :radius_deg)
