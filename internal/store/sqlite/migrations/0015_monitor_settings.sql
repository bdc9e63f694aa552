-- Each endpoint's drift settings (internal/monitor DriftSettings), kept
-- apart from monitor_references: they apply to a reference set for the
-- endpoint and to one derived from the served version's training data
-- alike. Zero values are the defaults.
CREATE TABLE monitor_settings (
    endpoint    TEXT    NOT NULL PRIMARY KEY,
    stattest    TEXT    NOT NULL,
    threshold   REAL    NOT NULL,
    drift_share REAL    NOT NULL,
    window_rows INTEGER NOT NULL,
    window_ms   INTEGER NOT NULL
);
