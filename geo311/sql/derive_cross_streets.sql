-- Derive each segment's cross streets from the other streets touching its start and end points.
-- Inputs: :source (the segments to update), :tolerance_m (how near an end must be, metres).
-- Output: UPDATE of street_segment.from_street (start point) and to_street (end point) for the
--   rows of :source; a side keeps its current value (the HIN file's own limits) when nothing
--   touches that end, so an end that only continues into the same street stays NULL.
-- Rule: the touching street must have another street_key than the segment (never its own
--   street, whatever its direction prefix); streets of any loaded source count, the same
--   source wins, then the nearest, then the first name alphabetically, so reruns agree.
-- Index: the GiST index on street_segment.geom (the && box test, sized in degrees from the
--   tolerance at the point's latitude); the geodesic distance runs on those few candidates.
WITH ends AS (
    SELECT s.id, s.source, s.street_key, 1 AS side, ST_StartPoint(s.geom) AS pt
    FROM street_segment s
    WHERE s.source = :source
    UNION ALL
    SELECT s.id, s.source, s.street_key, 2 AS side, ST_EndPoint(s.geom) AS pt
    FROM street_segment s
    WHERE s.source = :source
),
ends_deg AS (
    -- The tolerance as degrees of longitude at the point (the longer of the two axes in degrees).
    SELECT e.*, CAST(:tolerance_m AS float8) / (111320.0 * cos(radians(ST_Y(e.pt)))) AS tolerance_deg
    FROM ends e
),
crossing AS (
    SELECT e.id, e.side, c.full_name
    FROM ends_deg e
    CROSS JOIN LATERAL (
        SELECT o.full_name
        FROM street_segment o
        WHERE ST_DWithin(o.geom, e.pt, e.tolerance_deg)
          AND o.street_key <> e.street_key
        ORDER BY (o.source = e.source) DESC, o.geom <-> e.pt, o.full_name
        LIMIT 1
    ) c
),
sides AS (
    SELECT id,
           max(full_name) FILTER (WHERE side = 1) AS from_street,
           max(full_name) FILTER (WHERE side = 2) AS to_street
    FROM crossing
    GROUP BY id
)
UPDATE street_segment s
SET from_street = COALESCE(d.from_street, s.from_street),
    to_street = COALESCE(d.to_street, s.to_street)
FROM sides d
WHERE s.id = d.id
