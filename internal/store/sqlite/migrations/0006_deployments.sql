-- Serving: what each endpoint serves (internal/serving).
CREATE TABLE deployments (
    endpoint   TEXT    NOT NULL PRIMARY KEY,
    model      TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    strategy   TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    message    TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
