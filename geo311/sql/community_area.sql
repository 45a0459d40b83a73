-- The county city or unincorporated community a resident typed as the city ("123 Main St,
-- Pasadena"), with a point inside it, and which of the candidate points lie in or near it.
-- Inputs: :name (upper case, as geo311.address_parse reads the community), :lons, :lats (float8[],
-- the candidates' points), :near_m (metres around the area that still count: a mailing city
-- reaches past its limits). Output: at most one row: area id, type_code, name, lon/lat of a point
-- on its surface, and near (bool[], one per candidate point, in order).
SELECT a.id, s.type_code, a.name, ST_X(c) AS lon, ST_Y(c) AS lat,
       ARRAY(SELECT ST_DWithin(a.geom::geography,
                               ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)::geography, :near_m)
             FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]))
                  WITH ORDINALITY AS p(x, y, n)
             ORDER BY p.n) AS near
FROM area a
JOIN boundary_set s ON s.id = a.set_id
CROSS JOIN LATERAL ST_PointOnSurface(a.geom) AS c
WHERE s.type_code IN ('COUNTY_CITY', 'UNINCORPORATED') AND upper(a.name) = :name
ORDER BY s.type_code, s.valid_from DESC NULLS LAST
LIMIT 1
