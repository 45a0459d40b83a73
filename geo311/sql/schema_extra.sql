-- Idempotent DDL run by `geo311 db init` after create_all: extensions and indexes the ORM does not express.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
CREATE EXTENSION IF NOT EXISTS btree_gist;
-- Point lookups use the plain GiST index on area_part.geom: a (set_id, geom) index made the planner
-- pick it for geometry-only probes, three times slower than the plain one.
DROP INDEX IF EXISTS ix_area_part_set_geom;
CREATE INDEX IF NOT EXISTS ix_street_segment_full_name_trgm ON street_segment USING gin (full_name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_address_point_full_address_trgm ON address_point USING gin (full_address gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_facility_name_trgm ON facility USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_area_name_trgm ON area USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_address_point_key_prefix ON address_point (street_key text_pattern_ops);
-- A ZIP typed with a street we cannot place answers the ZIP's centre (geo311/sql/zip_centre.sql).
CREATE INDEX IF NOT EXISTS ix_address_point_zip ON address_point (zip);
-- Every street name the engine knows (segments and address points), for exact, prefix and fuzzy
-- street matching; refreshed after street and address loads (geo311.geocode.refresh_street_names).
CREATE MATERIALIZED VIEW IF NOT EXISTS street_name AS
SELECT street_key,
       array_remove(array_agg(DISTINCT pre_dir), NULL) AS pre_dirs,
       sum(n)::int AS weight
FROM (
    SELECT street_key, pre_dir, count(*) AS n FROM street_segment GROUP BY street_key, pre_dir
    UNION ALL
    SELECT street_key, pre_dir, count(*) AS n FROM address_point GROUP BY street_key, pre_dir
) AS names
GROUP BY street_key;
CREATE UNIQUE INDEX IF NOT EXISTS ux_street_name_key ON street_name (street_key);
CREATE INDEX IF NOT EXISTS ix_street_name_prefix ON street_name (street_key text_pattern_ops);
CREATE INDEX IF NOT EXISTS ix_street_name_trgm ON street_name USING gin (street_key gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_address_point_number ON address_point (house_number, pre_dir);
-- Request tiles (geo311/sql/tile_requests.sql): the request point in web mercator, kept by
-- PostgreSQL (a generated column, so writers need not fill it; models.py declares it for new
-- databases), its GiST index for sparse tiles, and a covering index in newest-first order for
-- dense ones: the newest points of a z10 tile come from the index alone, not from the table.
-- The index carries address_short (the address cut to 120 characters), not address: a b-tree
-- row has a size limit that a free-text address must not reach.
ALTER TABLE service_request ADD COLUMN IF NOT EXISTS location_3857 geometry(Point, 3857)
    GENERATED ALWAYS AS (ST_Transform(location, 3857)) STORED;
ALTER TABLE service_request ADD COLUMN IF NOT EXISTS address_short text
    GENERATED ALWAYS AS (left(address, 120)) STORED;
CREATE INDEX IF NOT EXISTS ix_service_request_location_3857 ON service_request
    USING gist (location_3857);
CREATE INDEX IF NOT EXISTS ix_service_request_tile_newest ON service_request (requested_at DESC)
    INCLUDE (location_3857, id, status, service_code, department, address_short);
-- Duplicates linked to a request (and the check PostgreSQL makes for the self-referencing foreign key
-- when a request is deleted: without it each delete scans the table). Partial: most rows are no
-- duplicate.
CREATE INDEX IF NOT EXISTS ix_service_request_duplicate_of ON service_request (duplicate_of)
    WHERE duplicate_of IS NOT NULL;
