-- One Mapbox Vector Tile layer "requests": 311 request points with public fields only (never
-- contact); "address" is cut to 120 characters. Inputs: :z, :x, :y, :extent, :buffer; the
-- filters of tile_request_filter.sql (spliced in by geo311.tiles at the comment line below);
-- :limit (most points per tile, newest first). Output: one bytea row.
-- The tile envelope is written inline from the binds (no CTE), so a one-shot plan sees it as a
-- constant and PostgreSQL estimates from the column statistics how many points the tile holds:
--   * dense tiles (z10-z13 in the city): Index Only Scan of ix_service_request_tile_newest,
--     newest first, stopping after :limit points inside the envelope; no table rows read;
--   * sparse tiles: Bitmap scan of ix_service_request_location_3857, then a top-N sort.
-- location_3857 is stored (generated column), so nothing is projected per row. Run unprepared
-- (geo311.tiles): a generic plan cannot tell a z10 tile from a z15 one.
WITH picked AS (
    SELECT r.id, r.service_code, r.status, r.department, r.address_short, r.requested_at,
           r.location_3857
    FROM service_request r
    WHERE r.location_3857 && ST_TileEnvelope(:z, :x, :y,
                                             margin => CAST(:buffer AS float8) / :extent)
      /* tile_request_filter.sql */
    ORDER BY r.requested_at DESC
    LIMIT :limit
),
features AS (
    SELECT p.id, p.service_code, p.status, p.department, p.address_short AS address,
           to_char(p.requested_at AT TIME ZONE 'America/Los_Angeles', 'YYYY-MM-DD') AS requested,
           floor(extract(epoch FROM now() - p.requested_at) / 86400)::int AS age_days,
           ST_AsMVTGeom(p.location_3857, ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true)
               AS geom
    FROM picked p
)
SELECT ST_AsMVT(features, 'requests', :extent, 'geom') AS tile
FROM features
WHERE geom IS NOT NULL
