-- The request filters shared by every statement over service_request r that takes them (request
-- tiles through tile_request_filter.sql, hotspots through hotspot_requests.sql): included where a
-- statement has the line /* request_filter.sql */ after a WHERE (geo311.db.with_includes).
-- Inputs: :service_codes, :statuses, :departments (text[] or NULL for any), :area (JSON text
-- '[{"type":"CD","code":"10"}]' or NULL; GIN index ix_service_request_areas).
      AND (CAST(:service_codes AS text[]) IS NULL
           OR r.service_code = ANY(CAST(:service_codes AS text[])))
      AND (CAST(:statuses AS text[]) IS NULL OR r.status = ANY(CAST(:statuses AS text[])))
      AND (CAST(:departments AS text[]) IS NULL
           OR r.department = ANY(CAST(:departments AS text[])))
      AND (CAST(:area AS jsonb) IS NULL OR r.areas @> CAST(:area AS jsonb))
