"""
On PostgreSQL, seal a batch with a few set-wise statements instead of two per entry.

- ``audit_seal`` still builds and hashes each entry's canonical text in a loop (each hash is
  the next one's previous hash), byte for byte as migration ``audit 0007`` did, but then moves
  the whole batch with one ``INSERT ... SELECT`` into the chain and one ``DELETE`` from the
  pending table, instead of an INSERT and a DELETE per entry; the leaf hashes go into an array,
  not a growing byte string copied at each entry.
- ``audit_pending`` refuses a DELETE by anyone but the sealer once per statement (a statement
  trigger, ``audit_pending_append_only_delete``), no longer once per row: the sealer's one
  DELETE per batch pays for one check, not one per entry. An UPDATE is still refused row by
  row (``audit_pending_append_only_rows``), and a DELETE by any other role is refused even
  when it matches no row.
"""

from django.db import migrations

# The advisory lock that serialises sealing (``services.SEAL_LOCK_ID``: "audit" in ASCII).
SEAL_LOCK_ID = 0x6175646974


def seal_sql(schema: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION audit_seal(p_limit integer, p_only bigint[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {schema}, pg_temp
AS $$
DECLARE
    v_seq bigint;
    v_prev text;
    v_last timestamptz;
    v_time timestamptz;
    v_time_text text;
    v_first bigint;
    v_bytes bytea;
    v_hash text;
    v_count integer := 0;
    v_ids bigint[] := ARRAY[]::bigint[];
    v_prevs text[] := ARRAY[]::text[];
    v_hashes text[] := ARRAY[]::text[];
    v_leaves bytea[] := ARRAY[]::bytea[];
    v_open bytea[] := ARRAY[]::bytea[];
    v_value bytea;
    v_level integer;
    v_pos bigint;
    v_size bigint;
    v_width integer;
    v_tile bytea;
    v_next bytea;
    r record;
BEGIN
    -- One sealer at a time (re-entrant for the session that holds the sealing lock).
    IF NOT pg_try_advisory_xact_lock({SEAL_LOCK_ID}) THEN
        RETURN 0;
    END IF;
    SELECT e.seq, e.hash, e.time INTO v_seq, v_prev, v_last
        FROM audit_entry e ORDER BY e.seq DESC LIMIT 1;
    v_seq := coalesce(v_seq, 0);
    v_prev := coalesce(v_prev, repeat('0', 64));
    v_first := v_seq;
    -- The sealer's clock, never before the entry before: time only goes forward.
    v_time := greatest(clock_timestamp(), coalesce(v_last, '-infinity'::timestamptz));
    v_time_text := to_char(v_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    FOR r IN
        SELECT p.id, p.actor_type, p.actor_id, p.action, p.object_type, p.object_id,
               p.consortium_id, p.payload
        FROM audit_pending p
        WHERE p_only IS NULL OR p.id = ANY(p_only)
        ORDER BY p.id LIMIT p_limit
    LOOP
        v_seq := v_seq + 1;
        v_count := v_count + 1;
        -- audit.chain.entry_text: JCS member order; to_json escapes strings as Python's
        -- json.dumps(ensure_ascii=False) does.
        v_bytes := convert_to('{{"action":' || to_json(r.action)::text
            || ',"actor_id":' || to_json(r.actor_id)::text
            || ',"actor_type":' || to_json(r.actor_type)::text
            || ',"consortium_id":' || coalesce(r.consortium_id::text, 'null')
            || ',"object_id":' || to_json(r.object_id)::text
            || ',"object_type":' || to_json(r.object_type)::text
            || ',"payload":' || r.payload
            || ',"prev_hash":' || to_json(v_prev)::text
            || ',"seq":' || v_seq::text
            || ',"time":' || to_json(v_time_text)::text
            || '}}', 'UTF8');
        v_hash := encode(sha256(v_bytes), 'hex');
        -- Subscript assignment grows an array in place (an append with || copies it).
        v_ids[v_count] := r.id;
        v_prevs[v_count] := v_prev;
        v_hashes[v_count] := v_hash;
        v_leaves[v_count] := sha256('\\x00'::bytea || v_bytes);
        v_prev := v_hash;
    END LOOP;
    IF v_count = 0 THEN
        RETURN 0;
    END IF;
    -- The database copies the fields itself: no one but this function deletes a pending row
    -- or may change one, so the chain holds exactly the bytes just hashed.
    INSERT INTO audit_entry (seq, prev_hash, hash, time, actor_type, actor_id, action,
                             object_type, object_id, consortium_id, payload, written_at)
        SELECT v_first + b.n, b.prev, b.hash, v_time, p.actor_type, p.actor_id, p.action,
               p.object_type, p.object_id, p.consortium_id, p.payload, p.written_at
        FROM unnest(v_ids, v_prevs, v_hashes) WITH ORDINALITY AS b(id, prev, hash, n)
        JOIN audit_pending p ON p.id = b.id
        ORDER BY b.n;
    DELETE FROM audit_pending WHERE id = ANY(v_ids);

    -- The Merkle tree (C2SP tlog-tiles, height 8; audit.tree.append): the rightmost tile of
    -- each level grows; a full tile's root becomes the next hash of the level above.
    v_level := 0;
    WHILE (v_first >> (8 * v_level)) > 0 LOOP
        v_width := ((v_first >> (8 * v_level)) & 255)::integer;
        v_tile := ''::bytea;
        IF v_width > 0 THEN
            SELECT t.hashes INTO v_tile FROM audit_tile t
                WHERE t.level = v_level AND t."index" = (v_first >> (8 * (v_level + 1)));
            IF v_tile IS NULL OR length(v_tile) <> v_width * 32 THEN
                RAISE EXCEPTION 'the Merkle tree does not match the log at size %', v_first;
            END IF;
        END IF;
        v_open := v_open || v_tile;
        v_level := v_level + 1;
    END LOOP;
    FOR i IN 1 .. v_count LOOP
        v_value := v_leaves[i];
        v_level := 0;
        v_pos := v_first + i - 1;
        LOOP
            IF array_length(v_open, 1) IS NULL OR array_length(v_open, 1) <= v_level THEN
                v_open := v_open || ''::bytea;
            END IF;
            v_open[v_level + 1] := v_open[v_level + 1] || v_value;
            EXIT WHEN length(v_open[v_level + 1]) < 8192;
            INSERT INTO audit_tile (level, "index", hashes)
                VALUES (v_level, v_pos >> 8, v_open[v_level + 1])
                ON CONFLICT (level, "index") DO UPDATE SET hashes = excluded.hashes;
            v_next := v_open[v_level + 1];
            WHILE length(v_next) > 32 LOOP
                v_tile := ''::bytea;
                FOR j IN 0 .. length(v_next) / 64 - 1 LOOP
                    v_tile := v_tile
                        || sha256('\\x01'::bytea || substring(v_next FROM j * 64 + 1 FOR 64));
                END LOOP;
                v_next := v_tile;
            END LOOP;
            v_open[v_level + 1] := ''::bytea;
            v_value := v_next;
            v_level := v_level + 1;
            v_pos := v_pos >> 8;
        END LOOP;
    END LOOP;
    v_size := v_first + v_count;
    FOR l IN 0 .. coalesce(array_length(v_open, 1), 0) - 1 LOOP
        IF length(v_open[l + 1]) > 0 THEN
            INSERT INTO audit_tile (level, "index", hashes)
                VALUES (l, v_size >> (8 * (l + 1)), v_open[l + 1])
                ON CONFLICT (level, "index") DO UPDATE SET hashes = excluded.hashes;
        END IF;
    END LOOP;
    RETURN v_count;
END
$$;
"""


GUARD_PER_STATEMENT = """
DROP TRIGGER audit_pending_append_only_rows ON audit_pending;
CREATE TRIGGER audit_pending_append_only_rows BEFORE UPDATE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_pending_append_only_delete BEFORE DELETE ON audit_pending
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
ALTER TABLE audit_pending ENABLE ALWAYS TRIGGER audit_pending_append_only_rows;
ALTER TABLE audit_pending ENABLE ALWAYS TRIGGER audit_pending_append_only_delete;
"""

GUARD_PER_ROW = """
DROP TRIGGER audit_pending_append_only_delete ON audit_pending;
DROP TRIGGER audit_pending_append_only_rows ON audit_pending;
CREATE TRIGGER audit_pending_append_only_rows BEFORE UPDATE OR DELETE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
ALTER TABLE audit_pending ENABLE ALWAYS TRIGGER audit_pending_append_only_rows;
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return schema_editor.connection.ops.quote_name(cursor.fetchone()[0])


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(seal_sql(_schema(schema_editor)), params=None)
    schema_editor.execute(GUARD_PER_STATEMENT, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from importlib import import_module

    earlier = import_module("audit.migrations.0007_database_roles")
    body = earlier.install_sql(_schema(schema_editor))
    start = body.index("CREATE OR REPLACE FUNCTION audit_seal")
    end = body.index("REVOKE ALL ON FUNCTION audit_seal")
    schema_editor.execute(body[start:end], params=None)
    schema_editor.execute(GUARD_PER_ROW, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0013_pending_notify_when_asleep")]
    operations = [migrations.RunPython(install, remove)]
