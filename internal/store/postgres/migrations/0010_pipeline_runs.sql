-- Pipeline runs submitted to the server (internal/pipeline): the run and
-- its steps, which workers claim under leases.
CREATE TABLE pipeline_runs (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    spec       TEXT    NOT NULL,
    params     TEXT    NOT NULL,
    workdir    TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    ended_at   BIGINT NOT NULL DEFAULT 0,
    created_by TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX pipeline_runs_created ON pipeline_runs (created_at);

CREATE TABLE pipeline_steps (
    run_id      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    deps        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    worker      TEXT    NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    started_at  BIGINT NOT NULL DEFAULT 0,
    ended_at    BIGINT NOT NULL DEFAULT 0,
    exit_code   INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    cache_key   TEXT    NOT NULL DEFAULT '',
    outputs     TEXT    NOT NULL DEFAULT '[]',
    log         TEXT    NOT NULL DEFAULT '',
    links       TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, name)
);
CREATE INDEX pipeline_steps_claim ON pipeline_steps (status, lease_until);
