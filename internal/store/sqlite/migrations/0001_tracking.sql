-- Tracking schema (experiments, runs and what they log), MLflow's model.
CREATE TABLE experiments (
    experiment_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL UNIQUE,
    artifact_location TEXT    NOT NULL DEFAULT '',
    lifecycle_stage   TEXT    NOT NULL DEFAULT 'active',
    creation_time     INTEGER NOT NULL DEFAULT 0,
    last_update_time  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
    key           TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

CREATE TABLE runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT, -- compact key for the metric history
    run_uuid        TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL DEFAULT '',
    experiment_id   INTEGER NOT NULL REFERENCES experiments (experiment_id),
    user_id         TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL,
    start_time      INTEGER NOT NULL,
    end_time        INTEGER,
    deleted_time    INTEGER,
    artifact_uri    TEXT    NOT NULL DEFAULT '',
    lifecycle_stage TEXT    NOT NULL DEFAULT 'active'
);
CREATE INDEX runs_experiment_start ON runs (experiment_id, lifecycle_stage, start_time DESC, run_uuid);

CREATE TABLE tags (
    run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    start_time INTEGER NOT NULL DEFAULT 0, -- the run's, for search order
    PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;

CREATE TABLE params (
    run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    start_time INTEGER NOT NULL DEFAULT 0, -- the run's, for search order
    PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;

-- Every logged value, keyed by the run's integer id (the history is the
-- largest table: a short key keeps inserts and scans cheap). NaN is stored
-- as value 0 with is_nan = 1. Logging an identical value twice keeps one.
CREATE TABLE metrics (
    run_id    INTEGER NOT NULL REFERENCES runs (id),
    key       TEXT    NOT NULL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL    NOT NULL,
    is_nan    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, key, step, timestamp, value, is_nan)
) WITHOUT ROWID;

-- The latest value per (run, key): the maximum of (step, timestamp, value).
CREATE TABLE latest_metrics (
    run_uuid  TEXT    NOT NULL REFERENCES runs (run_uuid),
    key       TEXT    NOT NULL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL    NOT NULL,
    is_nan    INTEGER NOT NULL DEFAULT 0,
    start_time INTEGER NOT NULL DEFAULT 0, -- the run's, for search order
    PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;

CREATE TABLE datasets (
    dataset_uuid        TEXT    NOT NULL PRIMARY KEY,
    experiment_id       INTEGER NOT NULL REFERENCES experiments (experiment_id),
    name                TEXT    NOT NULL,
    digest              TEXT    NOT NULL,
    dataset_source_type TEXT    NOT NULL,
    dataset_source      TEXT    NOT NULL,
    dataset_schema      TEXT    NOT NULL DEFAULT '',
    dataset_profile     TEXT    NOT NULL DEFAULT '',
    UNIQUE (experiment_id, name, digest)
);

CREATE TABLE inputs (
    input_uuid       TEXT NOT NULL PRIMARY KEY,
    source_type      TEXT NOT NULL,
    source_id        TEXT NOT NULL,
    destination_type TEXT NOT NULL,
    destination_id   TEXT NOT NULL,
    UNIQUE (source_type, source_id, destination_type, destination_id)
);
CREATE INDEX inputs_destination ON inputs (destination_type, destination_id);

CREATE TABLE input_tags (
    input_uuid TEXT NOT NULL REFERENCES inputs (input_uuid),
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (input_uuid, name)
) WITHOUT ROWID;
