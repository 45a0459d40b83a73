-- Everything locate reads at one point, in one round trip (one statement instead of three):
-- the nearest street segments (KNN on GiST street_segment.geom, as snap_segments.sql), the nearest
-- address points (KNN on GiST address_point.geom, as nearest_addresses.sql) and the areas within
-- :radius_m of the point (distance 0 = covering; GiST area_part.geom), per type in the vintage in
-- force on :on. The degree pre-filter of the areas is wide enough at LA's latitude.
-- Inputs: :lon, :lat (WGS84), :with_addresses (false reads none), :on (date), :radius_m. The KNN
-- limits (6 segments; 8 addresses, as one spot of the address layer can carry five names, 401
-- LINCOLN BLVD = PCH = SR 1 = ROUTE 1 = HIGHWAY 1, and all must be read for the City's name to
-- win whatever order the index returns them in) are constants so that the generic plan psycopg's
-- automatic prepare leads to keeps the index scans (a LIMIT parameter is costed as 10% of the table: a
-- sorted seq scan); with them the generic plan saves the ~1 ms of planning a custom one costs.
-- Output: one row of three json arrays, each in its own query's order: segments (geometry as hex
-- WKB in wkb), addresses, areas (type_code, vintage, code, name, area_id, distance_m).
SELECT
    (SELECT COALESCE(json_agg(seg), '[]') FROM (
        SELECT s.id, s.source, s.full_name, s.pre_dir, s.street_key,
               s.l_from, s.l_to, s.r_from, s.r_to, s.l_zip, s.r_zip, s.from_street, s.to_street,
               encode(ST_AsBinary(s.geom), 'hex') AS wkb,
               ST_Distance(s.geom::geography,
                           ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
        FROM street_segment s
        ORDER BY s.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
        LIMIT 6
    ) AS seg) AS segments,
    (SELECT COALESCE(json_agg(adr), '[]') FROM (
        SELECT a.id, a.kind, a.source, a.house_number, a.number_suffix, a.pre_dir, a.name, a.suffix,
               a.post_dir, a.zip, a.full_address, a.street_key, a.confidence,
               ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,
               ST_Distance(a.geom::geography,
                           ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
        FROM address_point a
        WHERE a.kind IN ('address', 'observed') AND CAST(:with_addresses AS boolean)
        ORDER BY a.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
        LIMIT 8
    ) AS adr) AS addresses,
    (SELECT COALESCE(json_agg(near), '[]') FROM (
        WITH sets AS (
            SELECT DISTINCT ON (type_code) id, type_code, vintage
            FROM boundary_set
            ORDER BY type_code,
                     GREATEST(COALESCE(valid_from, DATE '0001-01-01') - CAST(:on AS date),
                              CAST(:on AS date) - COALESCE(valid_to - 1, DATE '9999-12-31'), 0),
                     valid_from DESC NULLS LAST
        ), pt AS (
            SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g
        )
        SELECT type_code, vintage, code, name, area_id, distance_m FROM (
            SELECT s.type_code, s.vintage, a.code, a.name, a.id AS area_id,
                   MIN(CASE WHEN ST_Covers(p.geom, pt.g) THEN 0
                            ELSE ST_Distance(p.geom::geography, pt.g::geography) END) AS distance_m
            FROM pt
            JOIN area_part p ON ST_DWithin(p.geom, pt.g, CAST(:radius_m AS float8) / 80000.0)
            JOIN sets s ON s.id = p.set_id
            JOIN area a ON a.id = p.area_id
            GROUP BY s.type_code, s.vintage, a.code, a.name, a.id
        ) AS grouped
        WHERE distance_m <= :radius_m
        ORDER BY type_code, distance_m, code
    ) AS near) AS areas
