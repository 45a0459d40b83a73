-- Idempotent DDL run by `geo311 db init` after create_all: extensions and indexes the ORM does not express.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS ix_street_segment_full_name_trgm ON street_segment USING gin (full_name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_address_point_full_address_trgm ON address_point USING gin (full_address gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_facility_name_trgm ON facility USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_area_name_trgm ON area USING gin (name gin_trgm_ops);
