-- Upsert one batch of staged MyLA311 records into service_request, by SRNumber (external_id).
-- Inputs: the temp table request_stage (filled by COPY: one row per good record, seq in file
--   order, g = its point, areas = the JSON list of the areas covering it on the record's own date,
--   resolved by geo311.boundaries.areas_at_points before the COPY) and :import_id.
-- Rules: last row of the batch wins for a repeated SRNumber; a row whose source hash is unchanged
--   writes nothing; a newer row (updated_at) overwrites, an older one only fills gaps, and so does
--   a snapshot row (no dates of its own: it never changes a stored record's status, and a full
--   record always replaces what a snapshot stored); the raw pin
--   is never overwritten; history gets "open" (+ the closing status) for new rows and a row for
--   every status change of an existing one, all with actor 'import'.
-- Output: one row of counts (inserted, updated, distinct_rows, history, CD/NC agreement).
-- Relies on the unique index on service_request.external_id.
WITH src AS (
    SELECT DISTINCT ON (s.external_id)
           s.seq, s.external_id, s.service_code, s.status, s.close_reason, s.lon, s.lat, s.g,
           s.address, s.zip, s.department, s.agency, s.channel, s.requested_at, s.updated_at,
           s.closed_at, s.anonymous, s.city_cd, s.city_nc,
           CAST(s.areas AS jsonb) AS areas,
           CASE WHEN s.service_date IS NULL THEN CAST(s.ext AS jsonb)
                ELSE CAST(s.ext AS jsonb) || jsonb_build_object('service_date', s.service_date)
           END AS ext,
           md5(ROW(s.external_id, s.service_code, s.status, s.close_reason, s.lon, s.lat,
                   s.address, s.zip, s.department, s.agency, s.channel, s.requested_at,
                   s.updated_at, s.closed_at, s.anonymous, s.owner, s.city_cd, s.city_nc,
                   s.assign_to, s.action_taken, s.request_source, s.service_date,
                   s.estimated)::text) AS import_hash,
           -- The stored status before this statement, for the history of a changed record. A
           -- scalar subquery is one unique-index probe per record whatever the statistics say
           -- (a join was planned as a scan of service_request per record when the table's
           -- statistics were taken before this transaction's inserts).
           (SELECT o.status FROM service_request o
            WHERE o.external_id = s.external_id) AS old_status
    FROM request_stage s
    ORDER BY s.external_id, s.seq DESC
),
up AS (
    INSERT INTO service_request AS sr (
        external_id, service_code, status, close_reason, pin_lon, pin_lat, pin_source, location,
        address, zip, department, agency_responsible, areas, attributes, channel, requested_at,
        updated_at, closed_at, version, anonymous, external, import_hash, import_id)
    SELECT external_id, service_code, status, close_reason, lon, lat,
           CASE WHEN lon IS NOT NULL THEN 'import' END,
           g,
           address, zip, department, agency, areas, '{}'::jsonb, channel, requested_at,
           updated_at, closed_at, 1, COALESCE(anonymous, false), ext, import_hash,
           CAST(:import_id AS integer)
    FROM src
    ON CONFLICT (external_id) DO UPDATE SET
        service_code = CASE WHEN NOT (EXCLUDED.external ? 'requested_at_estimated') AND (
                 EXCLUDED.updated_at >= sr.updated_at OR sr.external ? 'requested_at_estimated')
                            THEN EXCLUDED.service_code ELSE sr.service_code END,
        status = CASE WHEN NOT (EXCLUDED.external ? 'requested_at_estimated') AND (
                 EXCLUDED.updated_at >= sr.updated_at OR sr.external ? 'requested_at_estimated')
                      THEN EXCLUDED.status ELSE sr.status END,
        close_reason = CASE WHEN NOT (EXCLUDED.external ? 'requested_at_estimated') AND (
                 EXCLUDED.updated_at >= sr.updated_at OR sr.external ? 'requested_at_estimated')
                            THEN EXCLUDED.close_reason ELSE sr.close_reason END,
        closed_at = CASE WHEN NOT (EXCLUDED.external ? 'requested_at_estimated') AND (
                 EXCLUDED.updated_at >= sr.updated_at OR sr.external ? 'requested_at_estimated')
                         THEN COALESCE(EXCLUDED.closed_at, sr.closed_at)
                         ELSE COALESCE(sr.closed_at, EXCLUDED.closed_at) END,
        address = COALESCE(sr.address, EXCLUDED.address),
        zip = COALESCE(sr.zip, EXCLUDED.zip),
        department = CASE WHEN NOT (EXCLUDED.external ? 'requested_at_estimated') AND (
                 EXCLUDED.updated_at >= sr.updated_at OR sr.external ? 'requested_at_estimated')
                          THEN COALESCE(EXCLUDED.department, sr.department)
                          ELSE COALESCE(sr.department, EXCLUDED.department) END,
        agency_responsible = CASE WHEN NOT (EXCLUDED.external ? 'requested_at_estimated') AND (
                 EXCLUDED.updated_at >= sr.updated_at OR sr.external ? 'requested_at_estimated')
                                  THEN COALESCE(EXCLUDED.agency_responsible, sr.agency_responsible)
                                  ELSE COALESCE(sr.agency_responsible, EXCLUDED.agency_responsible)
                             END,
        -- The raw pin and located point are never overwritten, only filled when missing.
        pin_lon = COALESCE(sr.pin_lon, EXCLUDED.pin_lon),
        pin_lat = CASE WHEN sr.pin_lon IS NULL THEN EXCLUDED.pin_lat ELSE sr.pin_lat END,
        pin_source = CASE WHEN sr.pin_lon IS NULL THEN EXCLUDED.pin_source ELSE sr.pin_source END,
        location = COALESCE(sr.location, EXCLUDED.location),
        -- A snapshot row only knows the request was open then: it never moves a real date.
        requested_at = CASE WHEN EXCLUDED.external ? 'requested_at_estimated'
                            THEN sr.requested_at ELSE EXCLUDED.requested_at END,
        areas = CASE WHEN EXCLUDED.external ? 'requested_at_estimated' AND sr.areas <> '[]'
                     THEN sr.areas
                     WHEN EXCLUDED.areas = '[]' THEN sr.areas
                     ELSE EXCLUDED.areas END,
        -- A snapshot's labels never override a full record's (existing keys win).
        external = CASE WHEN EXCLUDED.external ? 'requested_at_estimated'
                        THEN (EXCLUDED.external - 'requested_at_estimated') || sr.external
                        ELSE (sr.external || EXCLUDED.external) - 'requested_at_estimated' END,
        channel = CASE WHEN sr.channel = 'import' THEN EXCLUDED.channel ELSE sr.channel END,
        updated_at = CASE WHEN EXCLUDED.external ? 'requested_at_estimated' THEN sr.updated_at
                          WHEN sr.external ? 'requested_at_estimated' THEN EXCLUDED.updated_at
                          ELSE GREATEST(sr.updated_at, EXCLUDED.updated_at) END,
        anonymous = EXCLUDED.anonymous OR sr.anonymous,
        version = sr.version + 1,
        import_hash = EXCLUDED.import_hash,
        import_id = EXCLUDED.import_id
    WHERE sr.import_hash IS DISTINCT FROM EXCLUDED.import_hash
    RETURNING sr.id, sr.external_id, sr.status, sr.close_reason, sr.requested_at, sr.updated_at,
              sr.closed_at, (sr.xmax = 0) AS inserted
),
hist AS (
    INSERT INTO request_status_history (request_id, at, actor, from_status, to_status, reason,
                                        note, public)
    SELECT id, requested_at, 'import', NULL, 'open', NULL, 'imported from MyLA311', true
    FROM up WHERE inserted
    UNION ALL
    SELECT id, GREATEST(COALESCE(closed_at, updated_at), requested_at), 'import', 'open', status,
           close_reason, NULL, true
    FROM up WHERE inserted AND status <> 'open'
    UNION ALL
    SELECT up.id, up.updated_at, 'import', src.old_status, up.status, up.close_reason,
           'status changed in MyLA311', true
    FROM up JOIN src ON src.external_id = up.external_id
    WHERE NOT up.inserted AND src.old_status IS DISTINCT FROM up.status
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM up WHERE inserted) AS inserted,
    (SELECT count(*) FROM up WHERE NOT inserted) AS updated,
    (SELECT count(*) FROM src) AS distinct_rows,
    (SELECT count(*) FROM hist) AS history,
    count(*) FILTER (WHERE city_cd IS NOT NULL AND lon IS NOT NULL) AS cd_total,
    count(*) FILTER (WHERE city_cd IS NOT NULL AND lon IS NOT NULL AND areas @> jsonb_build_array(
        jsonb_build_object('type', 'CD', 'code', city_cd))) AS cd_agree,
    count(*) FILTER (WHERE city_nc IS NOT NULL AND lon IS NOT NULL) AS nc_total,
    count(*) FILTER (WHERE city_nc IS NOT NULL AND lon IS NOT NULL AND areas @> jsonb_build_array(
        jsonb_build_object('type', 'NC', 'code', city_nc))) AS nc_agree
FROM src
