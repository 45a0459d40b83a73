-- The request cell summary behind the clustered request tiles (tile_request_clusters.sql):
-- per z14 tile ("cell": it nests exactly in every 64 px cluster cell of z10-z12), request type,
-- status and department (NULL stored as ''), the count, the sums of the web-mercator x and y in
-- whole millimetres (integers: adding and taking away the same values never drifts, and the
-- mean is within a millimetre of the exact one) and the oldest and newest requested_at.
-- Kept exact by statement triggers on service_request, in two steps so that a long import
-- never holds a summary row lock while it runs:
--   1. each INSERT/UPDATE/DELETE statement (COPY too) appends its net change per cell group to
--      request_cell_change under the transaction's id (append only: no locks, no conflicts) and
--      marks the transaction in request_cell_flush;
--   2. at COMMIT a deferred constraint trigger on that mark folds the transaction's changes into
--      request_cell with one upsert in key order (no deadlock between two committing writers;
--      the rows stay locked only until the commit ends), deletes groups left empty, and reads
--      the oldest/newest again from service_request for the groups whose oldest or newest
--      request went away (ix_service_request_location_3857, one scan per cell).
-- A rollback (or a rolled-back savepoint) discards the changes with the rows. TRUNCATE empties
-- the summary. Writes with triggers off (session_replication_role = replica) must be followed
-- by request_cells_rebuild(), which recomputes everything from service_request.
-- Run as one script (plpgsql bodies), after schema_extra.sql; idempotent. On the first run over
-- an existing table (the trigger did not exist yet) it fills the summary.
CREATE OR REPLACE FUNCTION request_cell_col(x float8) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT least(16383, greatest(0, floor((x + 20037508.342789244) * 16384
                                                / 40075016.685578488)))::smallint $$;
CREATE OR REPLACE FUNCTION request_cell_row(y float8) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT least(16383, greatest(0, floor((20037508.342789244 - y) * 16384
                                                / 40075016.685578488)))::smallint $$;

CREATE TABLE IF NOT EXISTS request_cell (
    cx smallint NOT NULL,
    cy smallint NOT NULL,
    service_code text NOT NULL,
    status text NOT NULL,
    department text NOT NULL,
    n integer NOT NULL,
    sum_x_mm bigint NOT NULL,
    sum_y_mm bigint NOT NULL,
    oldest timestamptz,
    newest timestamptz,
    PRIMARY KEY (cx, cy, service_code, status, department)
);

-- One row per statement and group: the net change, the oldest/newest of the requests added
-- (oldest, newest) and of those taken away (removed_oldest, removed_newest).
CREATE UNLOGGED TABLE IF NOT EXISTS request_cell_change (
    xid xid8 NOT NULL,
    LIKE request_cell,
    removed_oldest timestamptz,
    removed_newest timestamptz
);
CREATE INDEX IF NOT EXISTS ix_request_cell_change_xid ON request_cell_change (xid);
CREATE UNLOGGED TABLE IF NOT EXISTS request_cell_flush (xid xid8 PRIMARY KEY);

-- Step 1. The rows a statement added (sign 1) and removed (sign -1); an UPDATE counts only the
-- rows whose cell, type, status, department, position or requested_at changed.
CREATE OR REPLACE FUNCTION request_cells_note() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, r.* FROM new_rows r'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, r.* FROM old_rows r'
        ELSE 'SELECT v.* FROM old_rows o JOIN new_rows n ON n.id = o.id,
                  LATERAL (VALUES (-1, o.location_3857, o.service_code, o.status, o.department,
                                   o.requested_at),
                                  (1, n.location_3857, n.service_code, n.status, n.department,
                                   n.requested_at))
                      AS v(sign, location_3857, service_code, status, department, requested_at)
              WHERE (ST_X(o.location_3857), ST_Y(o.location_3857), o.service_code, o.status,
                     o.department, o.requested_at)
                    IS DISTINCT FROM (ST_X(n.location_3857), ST_Y(n.location_3857),
                                      n.service_code, n.status, n.department, n.requested_at)'
    END;
    noted bigint;
BEGIN
    EXECUTE format($q$
        INSERT INTO request_cell_change
            (xid, cx, cy, service_code, status, department, n, sum_x_mm, sum_y_mm,
             oldest, newest, removed_oldest, removed_newest)
        SELECT pg_current_xact_id(), request_cell_col(ST_X(s.location_3857)),
               request_cell_row(ST_Y(s.location_3857)), s.service_code, s.status,
               coalesce(s.department, ''), sum(s.sign),
               sum(s.sign * round(ST_X(s.location_3857) * 1000)::bigint),
               sum(s.sign * round(ST_Y(s.location_3857) * 1000)::bigint),
               min(s.requested_at) FILTER (WHERE s.sign > 0),
               max(s.requested_at) FILTER (WHERE s.sign > 0),
               min(s.requested_at) FILTER (WHERE s.sign < 0),
               max(s.requested_at) FILTER (WHERE s.sign < 0)
        FROM (%s) s
        WHERE s.location_3857 IS NOT NULL
        GROUP BY 2, 3, 4, 5, 6$q$, source);
    GET DIAGNOSTICS noted = ROW_COUNT;
    IF noted > 0 THEN
        INSERT INTO request_cell_flush VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

-- Step 2, at COMMIT (or at SET CONSTRAINTS request_cell_flush_at_commit IMMEDIATE).
CREATE OR REPLACE FUNCTION request_cells_flush() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fix_cx smallint[];
    fix_cy smallint[];
    fix_code text[];
    fix_status text[];
    fix_department text[];
BEGIN
    DELETE FROM request_cell_flush WHERE xid = NEW.xid;
    WITH taken AS (
        DELETE FROM request_cell_change WHERE xid = NEW.xid RETURNING *
    ),
    folded AS (
        SELECT cx, cy, service_code, status, department, sum(n)::int AS n,
               sum(sum_x_mm)::bigint AS sum_x_mm, sum(sum_y_mm)::bigint AS sum_y_mm,
               min(oldest) AS added_oldest, max(newest) AS added_newest,
               min(removed_oldest) AS removed_oldest, max(removed_newest) AS removed_newest
        FROM taken
        GROUP BY cx, cy, service_code, status, department
    ),
    upserted AS (
        INSERT INTO request_cell AS c
            (cx, cy, service_code, status, department, n, sum_x_mm, sum_y_mm, oldest, newest)
        SELECT cx, cy, service_code, status, department, n, sum_x_mm, sum_y_mm, added_oldest,
               added_newest
        FROM folded
        ORDER BY cx, cy, service_code, status, department
        ON CONFLICT (cx, cy, service_code, status, department) DO UPDATE
        SET n = c.n + EXCLUDED.n, sum_x_mm = c.sum_x_mm + EXCLUDED.sum_x_mm,
            sum_y_mm = c.sum_y_mm + EXCLUDED.sum_y_mm,
            oldest = least(c.oldest, EXCLUDED.oldest),
            newest = greatest(c.newest, EXCLUDED.newest)
        RETURNING c.cx, c.cy, c.service_code, c.status, c.department, c.n, c.oldest, c.newest
    )
    SELECT array_agg(u.cx), array_agg(u.cy), array_agg(u.service_code), array_agg(u.status),
           array_agg(u.department)
    INTO fix_cx, fix_cy, fix_code, fix_status, fix_department
    FROM upserted u
    JOIN folded f USING (cx, cy, service_code, status, department)
    WHERE u.n <= 0 OR u.oldest IS NULL OR u.newest IS NULL
       OR f.removed_oldest <= u.oldest OR f.removed_newest >= u.newest;
    IF fix_cx IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM request_cell c
    USING unnest(fix_cx, fix_cy, fix_code, fix_status, fix_department)
        AS k(cx, cy, service_code, status, department)
    WHERE (c.cx, c.cy, c.service_code, c.status, c.department)
          = (k.cx, k.cy, k.service_code, k.status, k.department)
      AND c.n <= 0;
    -- A new statement, so a new snapshot: it sees every writer that committed before this
    -- transaction locked the rows above.
    WITH keys AS (
        SELECT * FROM unnest(fix_cx, fix_cy, fix_code, fix_status, fix_department)
            AS k(cx, cy, service_code, status, department)
    ),
    seen AS (
        SELECT request_cell_col(ST_X(r.location_3857)) AS cx,
               request_cell_row(ST_Y(r.location_3857)) AS cy,
               r.service_code, r.status, coalesce(r.department, '') AS department,
               r.requested_at
        FROM (SELECT DISTINCT cx, cy FROM keys) cell
        JOIN service_request r
          ON r.location_3857 && ST_Expand(ST_TileEnvelope(14, cell.cx, cell.cy), 1)
    ),
    extremes AS (
        SELECT s.cx, s.cy, s.service_code, s.status, s.department,
               min(s.requested_at) AS oldest, max(s.requested_at) AS newest
        FROM seen s
        JOIN keys k USING (cx, cy, service_code, status, department)
        GROUP BY s.cx, s.cy, s.service_code, s.status, s.department
    )
    UPDATE request_cell c
    SET oldest = e.oldest, newest = e.newest
    FROM extremes e
    WHERE (c.cx, c.cy, c.service_code, c.status, c.department)
          = (e.cx, e.cy, e.service_code, e.status, e.department);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION request_cells_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE request_cell;
    DELETE FROM request_cell_change WHERE xid = pg_current_xact_id();
    RETURN NULL;
END
$$;

-- Everything again from service_request (after a load with triggers off); returns the groups.
CREATE OR REPLACE FUNCTION request_cells_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    groups bigint;
BEGIN
    LOCK TABLE request_cell IN EXCLUSIVE MODE;
    DELETE FROM request_cell;
    INSERT INTO request_cell
        (cx, cy, service_code, status, department, n, sum_x_mm, sum_y_mm, oldest, newest)
    SELECT request_cell_col(ST_X(location_3857)), request_cell_row(ST_Y(location_3857)),
           service_code, status, coalesce(department, ''), count(*),
           sum(round(ST_X(location_3857) * 1000)::bigint),
           sum(round(ST_Y(location_3857) * 1000)::bigint),
           min(requested_at), max(requested_at)
    FROM service_request
    WHERE location_3857 IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5;
    GET DIAGNOSTICS groups = ROW_COUNT;
    DELETE FROM request_cell_change WHERE xid = pg_current_xact_id();
    RETURN groups;
END
$$;

DO $$
DECLARE
    fresh boolean := NOT EXISTS (
        SELECT 1 FROM pg_trigger
        WHERE tgrelid = 'service_request'::regclass AND tgname = 'request_cells_insert');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'request_cell_flush'::regclass
                   AND tgname = 'request_cell_flush_at_commit') THEN
        CREATE CONSTRAINT TRIGGER request_cell_flush_at_commit
            AFTER INSERT ON request_cell_flush DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION request_cells_flush();
    END IF;
    CREATE OR REPLACE TRIGGER request_cells_insert AFTER INSERT ON service_request
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION request_cells_note();
    CREATE OR REPLACE TRIGGER request_cells_update AFTER UPDATE ON service_request
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION request_cells_note();
    CREATE OR REPLACE TRIGGER request_cells_delete AFTER DELETE ON service_request
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION request_cells_note();
    CREATE OR REPLACE TRIGGER request_cells_truncate AFTER TRUNCATE ON service_request
        FOR EACH STATEMENT EXECUTE FUNCTION request_cells_truncate();
    IF fresh THEN
        PERFORM request_cells_rebuild();
    END IF;
END
$$;
