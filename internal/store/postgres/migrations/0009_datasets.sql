-- Dataset versions (internal/dataset): immutable, content-addressed by the
-- SHA-256 of the file, numbered per dataset; schema and profile as JSON.
CREATE TABLE dataset_versions (
    name       TEXT    NOT NULL,
    version    BIGINT NOT NULL,
    digest     TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    format     TEXT    NOT NULL,
    size       BIGINT NOT NULL,
    nrows      BIGINT NOT NULL,
    schema     TEXT    NOT NULL,
    profile    TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (name, version),
    UNIQUE (name, digest)
);
