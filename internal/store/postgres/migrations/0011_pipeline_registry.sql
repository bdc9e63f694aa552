-- Pipelines registered in the server for their schedules and triggers
-- (internal/pipeline).
CREATE TABLE pipelines (
    name          TEXT    NOT NULL PRIMARY KEY,
    spec          TEXT    NOT NULL,
    workdir       TEXT    NOT NULL,
    params        TEXT    NOT NULL,
    schedule      TEXT    NOT NULL DEFAULT '',
    triggers      TEXT    NOT NULL DEFAULT '[]',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    last_fired_at BIGINT NOT NULL DEFAULT 0
);
