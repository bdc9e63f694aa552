-- Serving: what each endpoint serves (internal/serving).
CREATE TABLE deployments (
    endpoint   TEXT    NOT NULL PRIMARY KEY,
    model      TEXT    NOT NULL,
    version    BIGINT NOT NULL,
    strategy   TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    message    TEXT    NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
