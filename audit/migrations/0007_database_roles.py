"""
On PostgreSQL, defence in depth for the audit log: no session setting opens a way around it.

- ``audit_append_only()`` no longer reads ``audit.sealing`` or ``audit.allow_truncate``: every
  UPDATE, DELETE and TRUNCATE of an append-only table is refused, except the deletion of pending
  entries by the role that owns ``audit_seal`` (the sealer), which only that function does.
- ``audit_seal(limit, only)`` seals pending entries: a SECURITY DEFINER function owned by the
  sealer role (``AUDIT_SEALER_ROLE``), so the platform's runtime role seals without any right
  to write the chain itself. It gives each entry the next sequence number, the time (the
  database's clock, never before the entry before's), the previous hash and its own hash (the
  canonical text built in SQL, byte for byte ``audit.chain.entry_text``), moves it out of the
  pending table and grows the Merkle tree's tiles, all in the caller's transaction.
- Checkpoints and signing keys are append-only too: checkpoints refuse UPDATE, DELETE and
  TRUNCATE; a signing key's row keeps its key material for ever, and its status only moves
  forward (active, retired, revoked), each change stamped once.

The grants (who may do what) are given after every migration by ``audit.roles``.
"""

from django.db import migrations

# The advisory lock that serialises sealing (``services.SEAL_LOCK_ID``: "audit" in ASCII).
SEAL_LOCK_ID = 0x6175646974


def install_sql(schema: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_pending' AND current_user = (
        SELECT pg_get_userbyid(p.proowner) FROM pg_proc p
        WHERE p.proname = 'audit_seal' AND p.pronamespace = TG_TABLE_SCHEMA::regnamespace
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE FUNCTION audit_signingkey_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    rank_old integer := array_position(ARRAY['active', 'retired', 'revoked'], OLD.status::text);
    rank_new integer := array_position(ARRAY['active', 'retired', 'revoked'], NEW.status::text);
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'signing keys are append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.kid IS DISTINCT FROM OLD.kid OR NEW.algorithm IS DISTINCT FROM OLD.algorithm
        OR NEW.public_jwk::text IS DISTINCT FROM OLD.public_jwk::text
        OR NEW.encrypted_private_key IS DISTINCT FROM OLD.encrypted_private_key
        OR NEW.created_at IS DISTINCT FROM OLD.created_at
        OR rank_new IS NULL OR rank_new < rank_old
        OR (OLD.retired_at IS NOT NULL AND NEW.retired_at IS DISTINCT FROM OLD.retired_at)
        OR (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at)
        OR (NEW.status = 'revoked' AND NEW.revoked_at IS NULL)
    THEN
        RAISE EXCEPTION 'a signing key keeps its material and only moves forward: refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

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
    v_text text;
    v_hash text;
    v_count integer := 0;
    v_leaves bytea := ''::bytea;
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
        SELECT * FROM audit_pending p
        WHERE p_only IS NULL OR p.id = ANY(p_only)
        ORDER BY p.id LIMIT p_limit
    LOOP
        v_seq := v_seq + 1;
        -- audit.chain.entry_text: JCS member order; to_json escapes strings as Python's
        -- json.dumps(ensure_ascii=False) does.
        v_text := '{{"action":' || to_json(r.action)::text
            || ',"actor_id":' || to_json(r.actor_id)::text
            || ',"actor_type":' || to_json(r.actor_type)::text
            || ',"consortium_id":' || coalesce(r.consortium_id::text, 'null')
            || ',"object_id":' || to_json(r.object_id)::text
            || ',"object_type":' || to_json(r.object_type)::text
            || ',"payload":' || r.payload
            || ',"prev_hash":' || to_json(v_prev)::text
            || ',"seq":' || v_seq::text
            || ',"time":' || to_json(v_time_text)::text
            || '}}';
        v_hash := encode(sha256(convert_to(v_text, 'UTF8')), 'hex');
        INSERT INTO audit_entry (seq, prev_hash, hash, time, actor_type, actor_id, action,
                                 object_type, object_id, consortium_id, payload, written_at)
        VALUES (v_seq, v_prev, v_hash, v_time, r.actor_type, r.actor_id, r.action,
                r.object_type, r.object_id, r.consortium_id, r.payload, r.written_at);
        DELETE FROM audit_pending WHERE id = r.id;
        v_leaves := v_leaves || sha256('\\x00'::bytea || convert_to(v_text, 'UTF8'));
        v_prev := v_hash;
        v_count := v_count + 1;
    END LOOP;
    IF v_count = 0 THEN
        RETURN 0;
    END IF;

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
    FOR i IN 0 .. v_count - 1 LOOP
        v_value := substring(v_leaves FROM i * 32 + 1 FOR 32);
        v_level := 0;
        v_pos := v_first + i;
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
REVOKE ALL ON FUNCTION audit_seal(integer, bigint[]) FROM PUBLIC;

CREATE TRIGGER audit_checkpoint_append_only_rows BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoint_append_only_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_signingkey_forward_rows BEFORE UPDATE OR DELETE ON audit_signingkey
    FOR EACH ROW EXECUTE FUNCTION audit_signingkey_forward();
CREATE TRIGGER audit_signingkey_append_only_truncate BEFORE TRUNCATE ON audit_signingkey
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""


# The triggers fire whatever the session's replication role (ENABLE ALWAYS).
TRIGGERS = {
    "audit_entry": ["audit_entry_append_only_rows", "audit_entry_append_only_truncate"],
    "audit_pending": ["audit_pending_append_only_rows", "audit_pending_append_only_truncate"],
    "audit_checkpoint": [
        "audit_checkpoint_append_only_rows",
        "audit_checkpoint_append_only_truncate",
    ],
    "audit_signingkey": ["audit_signingkey_forward_rows", "audit_signingkey_append_only_truncate"],
}

# Before this migration (0002): the escape hatches it removes.
EARLIER_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('audit.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_pending'
        AND current_setting('audit.sealing', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = schema_editor.connection.ops.quote_name(cursor.fetchone()[0])
    schema_editor.execute(install_sql(schema), params=None)
    for table, names in TRIGGERS.items():
        for name in names:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}", params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS audit_checkpoint_append_only_rows ON audit_checkpoint;"
        "DROP TRIGGER IF EXISTS audit_checkpoint_append_only_truncate ON audit_checkpoint;"
        "DROP TRIGGER IF EXISTS audit_signingkey_forward_rows ON audit_signingkey;"
        "DROP TRIGGER IF EXISTS audit_signingkey_append_only_truncate ON audit_signingkey;"
        "DROP FUNCTION IF EXISTS audit_signingkey_forward();"
        "DROP FUNCTION IF EXISTS audit_seal(integer, bigint[]);" + EARLIER_FUNCTION,
        params=None,
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_entry_time_by_sealer")]
    operations = [migrations.RunPython(install, remove)]
