-- Address points (reference, observed, and hundred-block faces counted at mid-block: 4900 -> 4950) on one street with the numbers nearest to :number,
-- below and above it, for interpolating a number that has no point of its own.
-- Inputs: :street_key, :number, :span (how far in numbers to look), :pre_dir (text or NULL = any).
-- Output: up to 6 rows below and 6 above: house_number, lon, lat, zip, kind, confidence.
-- Relies on ix_address_point_key_number (street_key, house_number).
(SELECT house_number + CASE WHEN kind = 'blockface' THEN 50 ELSE 0 END AS house_number,
        ST_X(geom) AS lon, ST_Y(geom) AS lat, zip, kind, confidence
 FROM address_point
 WHERE street_key = :street_key AND house_number < :number AND house_number >= :number - :span
   AND kind IN ('address', 'observed', 'blockface')
   AND (CAST(:pre_dir AS text) IS NULL OR pre_dir IS NULL OR pre_dir = CAST(:pre_dir AS text))
 ORDER BY house_number DESC LIMIT 6)
UNION ALL
(SELECT house_number + CASE WHEN kind = 'blockface' THEN 50 ELSE 0 END,
        ST_X(geom), ST_Y(geom), zip, kind, confidence
 FROM address_point
 WHERE street_key = :street_key AND house_number > :number - 100 AND house_number <= :number + :span
   AND kind IN ('address', 'observed', 'blockface')
   AND (CAST(:pre_dir AS text) IS NULL OR pre_dir IS NULL OR pre_dir = CAST(:pre_dir AS text))
 ORDER BY house_number ASC LIMIT 6)
