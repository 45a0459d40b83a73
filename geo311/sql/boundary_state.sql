-- The boundary token: one row whose random value changes, by statement triggers, whenever boundary
-- sets, areas or their parts change. geo311.area_index keeps its in-memory index per token.
-- Run as one script (it holds a plpgsql body), after schema_extra.sql; idempotent.
CREATE TABLE IF NOT EXISTS boundary_state (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    token uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO boundary_state DEFAULT VALUES ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION touch_boundary_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE boundary_state SET token = gen_random_uuid();
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER boundary_set_touches_state
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON boundary_set
    FOR EACH STATEMENT EXECUTE FUNCTION touch_boundary_state();
CREATE OR REPLACE TRIGGER area_touches_state
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON area
    FOR EACH STATEMENT EXECUTE FUNCTION touch_boundary_state();
CREATE OR REPLACE TRIGGER area_part_touches_state
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON area_part
    FOR EACH STATEMENT EXECUTE FUNCTION touch_boundary_state();
