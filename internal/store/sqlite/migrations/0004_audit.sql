-- Audit trail: an append-only, hash-chained log of mutating requests
-- (internal/audit; formats in docs/audit.md).

-- One row per entry. seq numbers the entries from 1 without gaps; hash is
-- the SHA-256 of the entry's canonical encoding, which covers prev_hash.
-- Times are Unix nanoseconds (UTC).
CREATE TABLE audit_events (
    seq            INTEGER PRIMARY KEY,
    time_ns        INTEGER NOT NULL,
    actor          TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    resource       TEXT    NOT NULL,
    request_digest TEXT    NOT NULL,
    before_digest  TEXT    NOT NULL,
    after_digest   TEXT    NOT NULL,
    status         INTEGER NOT NULL,
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
    seq       INTEGER PRIMARY KEY,
    hash      TEXT    NOT NULL,
    time_ns   INTEGER NOT NULL,
    key_id    TEXT    NOT NULL,
    signature BLOB    NOT NULL
);

-- The end of the chain. Appenders lock this row to serialise; verification
-- never trusts it.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Entries and checkpoints are never changed or removed by Ferry. These
-- guards stop accidents; someone who can drop them is caught by
-- verification instead.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
