-- Prediction log and ground truth (internal/predlog). Float arrays are
-- little-endian IEEE 754 float64 values, 8 bytes each, row-major: exact
-- (NaN, infinities and -0 survive), compact, and read without parsing.
-- Times are Unix milliseconds.
CREATE TABLE predictions (
    endpoint      TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    model         TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    variant       TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    latency_us    INTEGER NOT NULL,
    nrows         INTEGER NOT NULL,
    nfeatures     INTEGER NOT NULL,
    noutputs      INTEGER NOT NULL,
    inputs        BLOB    NOT NULL,
    outputs       BLOB    NOT NULL,
    PRIMARY KEY (endpoint, request_id)
);
-- An endpoint's log in time order (the keyset of paging).
CREATE INDEX predictions_time ON predictions (endpoint, created_at, request_id);

-- Ground truth, one value per row of the request. A row may exist before
-- (or without) its prediction: the log is sampled.
CREATE TABLE prediction_feedback (
    endpoint   TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    truth      BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (endpoint, request_id)
);

-- The feature names of the inputs each (endpoint, model version) logs,
-- kept once instead of on every row: a JSON array of strings.
CREATE TABLE prediction_schemas (
    endpoint      TEXT    NOT NULL,
    model         TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    feature_names TEXT    NOT NULL,
    PRIMARY KEY (endpoint, model, version)
);
