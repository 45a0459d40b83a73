-- The oldest open requests of one council district. Contact details and the latest internal
-- (non-public) note are selected only when :staff is true (a council user of this district).
-- Inputs: :area (jsonb), :as_of (timestamptz), :limit, :staff (boolean).
-- Output: id, type, public fields, age in days on :as_of, NC name; contact and note or NULL.
-- Relies on: GIN ix_service_request_areas; ix_request_status_history_request for the note.
SELECT r.id, r.external_id, r.service_code, COALESCE(t.name_en, r.service_code) AS name_en,
       COALESCE(t.name_es, r.service_code) AS name_es, r.status, r.address, r.requested_at,
       floor(extract(epoch FROM CAST(:as_of AS timestamptz) - r.requested_at) / 86400) AS age_days,
       (SELECT e ->> 'name' FROM jsonb_array_elements(r.areas) AS e
        WHERE e ->> 'type' = 'NC' LIMIT 1) AS nc_name,
       ST_X(r.location) AS lon, ST_Y(r.location) AS lat,
       CASE WHEN CAST(:staff AS boolean) AND NOT r.anonymous THEN r.contact END AS contact,
       CASE WHEN CAST(:staff AS boolean) THEN (
           SELECT h.note FROM request_status_history h
           WHERE h.request_id = r.id AND NOT h.public AND h.note IS NOT NULL
           ORDER BY h.at DESC, h.id DESC LIMIT 1) END AS internal_note
FROM service_request r
LEFT JOIN service_type t ON t.code = r.service_code
WHERE r.areas @> CAST(:area AS jsonb)
  AND r.status <> 'closed'
  AND r.requested_at < CAST(:as_of AS timestamptz)
ORDER BY r.requested_at, r.id
LIMIT :limit
