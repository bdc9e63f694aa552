-- The alert rules document set through the API (PUT /api/v1/alerts/rules),
-- which takes precedence over the alert_rules file: one row at most.
CREATE TABLE alert_rules (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    document   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL
);
