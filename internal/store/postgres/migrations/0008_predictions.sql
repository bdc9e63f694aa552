-- Prediction log and ground truth (internal/predlog). Float arrays are
-- little-endian IEEE 754 float64 values, 8 bytes each, row-major: exact
-- (NaN, infinities and -0 survive), compact, and read without parsing.
-- Times are Unix milliseconds. request_id compares byte-wise (COLLATE "C"), as
-- SQLite does, so pages follow the same order on both engines.
CREATE TABLE predictions (
    endpoint      TEXT   NOT NULL,
    request_id    TEXT   COLLATE "C" NOT NULL,
    model         TEXT   NOT NULL,
    version       BIGINT NOT NULL,
    variant       TEXT   NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    latency_us    BIGINT NOT NULL,
    nrows         BIGINT NOT NULL,
    nfeatures     BIGINT NOT NULL,
    noutputs      BIGINT NOT NULL,
    inputs        BYTEA  NOT NULL,
    outputs       BYTEA  NOT NULL,
    PRIMARY KEY (endpoint, request_id)
);
-- An endpoint's log in time order (the keyset of paging).
CREATE INDEX predictions_time ON predictions (endpoint, created_at, request_id);

-- Ground truth, one value per row of the request. A row may exist before
-- (or without) its prediction: the log is sampled.
CREATE TABLE prediction_feedback (
    endpoint   TEXT   NOT NULL,
    request_id TEXT   COLLATE "C" NOT NULL,
    truth      BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (endpoint, request_id)
);

-- The feature names of the inputs each (endpoint, model version) logs,
-- kept once instead of on every row: a JSON array of strings.
CREATE TABLE prediction_schemas (
    endpoint      TEXT    NOT NULL,
    model         TEXT    NOT NULL,
    version       BIGINT NOT NULL,
    feature_names TEXT    NOT NULL,
    PRIMARY KEY (endpoint, model, version)
);
