-- Audit trail: an append-only, hash-chained log of mutating requests
-- (internal/audit; formats in docs/audit.md).

-- One row per entry. seq numbers the entries from 1 without gaps; hash is
-- the SHA-256 of the entry's canonical encoding, which covers prev_hash.
-- Times are Unix nanoseconds (UTC). actor and resource compare byte-wise
-- (COLLATE "C"), so that resource prefix queries are index ranges.
CREATE TABLE audit_events (
    seq            BIGINT  PRIMARY KEY,
    time_ns        BIGINT  NOT NULL,
    actor          TEXT    COLLATE "C" NOT NULL,
    action         TEXT    NOT NULL,
    resource       TEXT    COLLATE "C" NOT NULL,
    request_digest TEXT    NOT NULL,
    before_digest  TEXT    NOT NULL,
    after_digest   TEXT    NOT NULL,
    status         BIGINT  NOT NULL,
    request_id     TEXT    NOT NULL,
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL
);
-- "ferry audit log --resource models:/NAME" (byte-wise ranges) and --actor.
CREATE INDEX audit_events_resource ON audit_events (resource, seq);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);

-- A checkpoint signed in every append transaction: Ed25519 over
-- (seq, hash, time_ns) by the key key_id names.
CREATE TABLE audit_checkpoints (
    seq       BIGINT PRIMARY KEY,
    hash      TEXT   NOT NULL,
    time_ns   BIGINT NOT NULL,
    key_id    TEXT   NOT NULL,
    signature BYTEA  NOT NULL
);

-- The end of the chain. Appenders lock this row (FOR NO KEY UPDATE), which
-- serialises them across servers; verification never trusts it.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Entries and checkpoints are never changed or removed by Ferry. These
-- guards stop accidents (and roles that may not drop triggers); someone
-- who can drop them is caught by verification instead.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
