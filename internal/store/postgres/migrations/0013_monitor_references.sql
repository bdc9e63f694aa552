-- The dataset version each endpoint's traffic is compared with
-- (internal/monitor drift).
CREATE TABLE monitor_references (
    endpoint TEXT    NOT NULL PRIMARY KEY,
    dataset  TEXT    NOT NULL,
    version  BIGINT NOT NULL
);
