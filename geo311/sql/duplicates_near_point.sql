-- Open requests of one type near a point, before it is reported (duplicate suggestions).
-- Inputs: :service_code, :lon, :lat (WGS84), :radius_m, :days, :segment_id (text or NULL: the
-- block the point snaps to), :segment_box_m (how far a same-block match may be), :limit.
-- Outputs: id, service_code, status, address, requested_at, distance_m, age_days, same_segment.
-- A candidate is within :radius_m, or on the same street segment (block) within :segment_box_m.
-- The && box (metres / 90 000 degrees, wider than a metre-degree anywhere in LA) lets the GiST
-- index on service_request.location pick candidates before the exact geography distance;
-- ix_service_request_type_requested serves the type and window filter.
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
SELECT o.id, o.service_code, o.status, o.address, o.requested_at,
       ST_Distance(o.location::geography, p.g::geography) AS distance_m,
       (EXTRACT(EPOCH FROM (now() - o.requested_at)) / 86400.0)::float8 AS age_days,
       COALESCE(o.locate -> 'segment' ->> 'id' = CAST(:segment_id AS text), false) AS same_segment
FROM service_request o, p
WHERE o.service_code = :service_code
  AND o.status <> 'closed'
  AND o.requested_at >= now() - make_interval(days => CAST(:days AS integer))
  AND o.location && ST_Expand(p.g, GREATEST(CAST(:radius_m AS float8),
                                            CAST(:segment_box_m AS float8)) / 90000.0)
  AND (ST_DWithin(o.location::geography, p.g::geography, CAST(:radius_m AS float8))
       OR (CAST(:segment_id AS text) IS NOT NULL
           AND o.locate -> 'segment' ->> 'id' = CAST(:segment_id AS text)
           AND ST_DWithin(o.location::geography, p.g::geography,
                          CAST(:segment_box_m AS float8))))
ORDER BY distance_m, o.id
LIMIT :limit
