-- An observed address point for a house number, or a point interpolated on the inferred range around it.
-- Inputs: :house_number (int), :street_key (text), :pre_dir (text or NULL for any direction), :zip (text or NULL).
-- Output (0 or 1 row): method ('observed' | 'interpolated'), lon, lat, from_number, from_lon, from_lat,
--   to_number, to_lon, to_lat (the to_* columns are NULL for 'observed').
-- Order: the same direction before rows stored without one, then the same ZIP (ranges across two ZIPs
-- have none), then an observed point before interpolation, then the number's street side (parity)
-- before mixed 'all' ranges, then the shortest range.
-- Relies on ix_address_point_key_number and ix_street_range_key (street_key, from_number, to_number).
WITH observed AS (
    SELECT 'observed' AS method, 0 AS method_rank, 0 AS parity_rank, 0 AS span, pre_dir, zip,
           ST_X(geom) AS lon, ST_Y(geom) AS lat,
           house_number AS from_number, ST_X(geom) AS from_lon, ST_Y(geom) AS from_lat,
           CAST(NULL AS integer) AS to_number, CAST(NULL AS float8) AS to_lon,
           CAST(NULL AS float8) AS to_lat
    FROM address_point
    WHERE kind = 'observed' AND street_key = :street_key AND house_number = :house_number
), ranged AS (
    SELECT 'interpolated', 1, CASE WHEN r.parity = 'all' THEN 1 ELSE 0 END,
           r.to_number - r.from_number, r.pre_dir, r.zip,
           ST_X(p.geom), ST_Y(p.geom),
           r.from_number, ST_X(ST_StartPoint(r.geom)), ST_Y(ST_StartPoint(r.geom)),
           r.to_number, ST_X(ST_EndPoint(r.geom)), ST_Y(ST_EndPoint(r.geom))
    FROM street_range r
    CROSS JOIN LATERAL (
        SELECT ST_LineInterpolatePoint(
            r.geom, CAST(:house_number - r.from_number AS float8) / (r.to_number - r.from_number)
        ) AS geom
    ) p
    WHERE r.street_key = :street_key
      AND r.from_number < :house_number AND r.to_number > :house_number
      AND r.parity IN ('all', CASE WHEN mod(:house_number, 2) = 0 THEN 'even' ELSE 'odd' END)
)
SELECT c.method, c.lon, c.lat, c.from_number, c.from_lon, c.from_lat, c.to_number, c.to_lon, c.to_lat
FROM (SELECT * FROM observed UNION ALL SELECT * FROM ranged) c
WHERE CAST(:pre_dir AS text) IS NULL OR c.pre_dir IS NULL OR c.pre_dir = CAST(:pre_dir AS text)
ORDER BY (c.pre_dir IS NOT DISTINCT FROM CAST(:pre_dir AS text)) DESC,
         CASE WHEN c.zip = CAST(:zip AS text) THEN 0
              WHEN c.zip IS NULL OR CAST(:zip AS text) IS NULL THEN 1 ELSE 2 END,
         c.method_rank, c.parity_rank, c.span
LIMIT 1
