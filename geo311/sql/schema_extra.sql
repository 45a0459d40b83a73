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
