-- Completions of typed text by name, in one round trip: street names starting with :prefix (only
-- when :with_streets), then facilities and areas (neighborhoods, NCs, county cities) whose upper-case
-- name contains the text (names starting with it first), or facilities of the type :ftype asked
-- for by a keyword. An area's point is computed only for the :limit areas kept.
-- Inputs: :with_streets (boolean), :prefix (LIKE pattern on street_key), :contains and :starts
-- (LIKE patterns on upper(name)), :ftype (facility type or NULL), :limit.
-- Output: kind (street | place | area), text, lon, lat (NULL for streets), in display order.
-- Relies on ix_street_name_prefix (text_pattern_ops); facilities and area names are few enough to scan.
SELECT kind, text, lon, lat FROM (
    SELECT 1 AS part, row_number() OVER () AS ord, 'street' AS kind, street_key AS text,
           CAST(NULL AS float8) AS lon, CAST(NULL AS float8) AS lat
    FROM (
        SELECT street_key FROM street_name
        WHERE CAST(:with_streets AS boolean) AND street_key LIKE :prefix
        ORDER BY weight DESC, street_key LIMIT :limit
    ) AS streets
    UNION ALL
    SELECT 2, row_number() OVER (), 'place', name, ST_X(geom), ST_Y(geom)
    FROM (
        SELECT name, geom FROM facility
        WHERE upper(name) LIKE :contains
           OR (CAST(:ftype AS text) IS NOT NULL AND type = CAST(:ftype AS text))
        ORDER BY upper(name) LIKE :starts DESC, name LIMIT :limit
    ) AS places
    UNION ALL
    SELECT 3, row_number() OVER (), 'area', areas.name, ST_X(c), ST_Y(c)
    FROM (
        SELECT a.name, a.geom FROM area a JOIN boundary_set s ON s.id = a.set_id
        WHERE s.type_code IN ('NEIGHBORHOOD', 'NC', 'COUNTY_CITY') AND upper(a.name) LIKE :contains
        ORDER BY upper(a.name) LIKE :starts DESC, a.name LIMIT :limit
    ) AS areas
    CROSS JOIN LATERAL ST_PointOnSurface(areas.geom) AS c
) AS hits
ORDER BY part, ord
