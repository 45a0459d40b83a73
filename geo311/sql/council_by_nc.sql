-- Requests of one council district per neighborhood council (the NC stored on each request).
-- Inputs: :area (jsonb), :since and :as_of (timestamptz).
-- Output: NC code and name (NULL for requests with no NC), requests received in the window,
--   requests open on :as_of; most received first.
-- Relies on: GIN ix_service_request_areas.
SELECT nc.code, nc.name,
       count(*) FILTER (WHERE r.requested_at >= CAST(:since AS timestamptz)) AS received,
       count(*) FILTER (WHERE r.status <> 'closed') AS open
FROM service_request r
LEFT JOIN LATERAL (
    SELECT e ->> 'code' AS code, e ->> 'name' AS name
    FROM jsonb_array_elements(r.areas) AS e
    WHERE e ->> 'type' = 'NC'
    LIMIT 1
) nc ON true
WHERE r.areas @> CAST(:area AS jsonb)
  AND r.requested_at < CAST(:as_of AS timestamptz)
  AND (r.status <> 'closed' OR r.requested_at >= CAST(:since AS timestamptz))
GROUP BY nc.code, nc.name
ORDER BY received DESC, open DESC, nc.name
