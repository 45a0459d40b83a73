-- Where a ZIP code lies, from the known addresses that carry it (the City's geocodes of 311
-- records and the address layer): the median point and the box holding all but the outer 2% on
-- each side (a stray geocode does not stretch it). Used when a typed street cannot be placed in
-- the ZIP typed with it. Inputs: :zip. Output: one row (n = 0 when the ZIP is unknown).
-- Relies on ix_address_point_zip.
SELECT count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_X(geom)) AS lon,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_Y(geom)) AS lat,
       percentile_cont(0.02) WITHIN GROUP (ORDER BY ST_X(geom)) AS west,
       percentile_cont(0.98) WITHIN GROUP (ORDER BY ST_X(geom)) AS east,
       percentile_cont(0.02) WITHIN GROUP (ORDER BY ST_Y(geom)) AS south,
       percentile_cont(0.98) WITHIN GROUP (ORDER BY ST_Y(geom)) AS north
FROM address_point
WHERE zip = :zip AND kind IN ('address', 'observed')
