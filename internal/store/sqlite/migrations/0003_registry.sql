-- Model registry: registered models, numbered versions, tags, aliases,
-- reviews (approvals) and per-model policy documents.
CREATE TABLE registered_models (
    model_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL UNIQUE,
    creation_time    INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    user_id          TEXT    NOT NULL DEFAULT '',
    description      TEXT    NOT NULL DEFAULT '',
    next_version     INTEGER NOT NULL DEFAULT 1 -- numbers are never reused
);

CREATE TABLE registered_model_tags (
    model_id INTEGER NOT NULL REFERENCES registered_models (model_id) ON DELETE CASCADE,
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (model_id, key)
) WITHOUT ROWID;

CREATE TABLE model_versions (
    model_id          INTEGER NOT NULL REFERENCES registered_models (model_id) ON DELETE CASCADE,
    version           INTEGER NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    user_id           TEXT    NOT NULL DEFAULT '',
    current_stage     TEXT    NOT NULL DEFAULT 'None',
    description       TEXT    NOT NULL DEFAULT '',
    source            TEXT    NOT NULL,
    storage_location  TEXT    NOT NULL DEFAULT '',
    run_id            TEXT    NOT NULL DEFAULT '',
    run_link          TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL DEFAULT 'READY',
    status_message    TEXT    NOT NULL DEFAULT '',
    deleted           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_run ON model_versions (run_id) WHERE run_id <> '';

CREATE TABLE model_version_tags (
    model_id INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (model_id, version, key),
    FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE registered_model_aliases (
    model_id INTEGER NOT NULL REFERENCES registered_models (model_id) ON DELETE CASCADE,
    alias    TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (model_id, alias)
) WITHOUT ROWID;

CREATE TABLE model_version_reviews (
    review_id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id  INTEGER NOT NULL,
    version   INTEGER NOT NULL,
    reviewer  TEXT    NOT NULL,
    decision  TEXT    NOT NULL,
    comment   TEXT    NOT NULL DEFAULT '',
    time      INTEGER NOT NULL,
    FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version) ON DELETE CASCADE
);
CREATE INDEX model_version_reviews_version ON model_version_reviews (model_id, version, review_id);

CREATE TABLE registered_model_policies (
    model_id     INTEGER PRIMARY KEY REFERENCES registered_models (model_id) ON DELETE CASCADE,
    document     TEXT    NOT NULL,
    updated_time INTEGER NOT NULL
);
