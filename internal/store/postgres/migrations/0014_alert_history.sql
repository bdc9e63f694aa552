-- Alert history (internal/alert): state transitions and delivery
-- attempts, newest found by id; silences kept across restarts.
CREATE TABLE alert_events (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT    NOT NULL,
    time        BIGINT  NOT NULL,
    rule        TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    labels      TEXT    NOT NULL,
    from_state  TEXT    NOT NULL,
    to_state    TEXT    NOT NULL,
    value       DOUBLE PRECISION,
    group_key   TEXT    NOT NULL,
    group_uri   TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    alerts      BIGINT  NOT NULL,
    attempt     BIGINT  NOT NULL,
    err         TEXT    NOT NULL,
    target      TEXT    NOT NULL
);
CREATE INDEX alert_events_time ON alert_events (time);
CREATE INDEX alert_events_rule ON alert_events (rule, id);
CREATE INDEX alert_events_group ON alert_events (group_uri, id);
CREATE INDEX alert_events_target ON alert_events (target, id);

CREATE TABLE alert_silences (
    id         TEXT    NOT NULL PRIMARY KEY,
    matchers   TEXT    NOT NULL,
    starts_at  BIGINT  NOT NULL,
    ends_at    BIGINT  NOT NULL,
    comment    TEXT    NOT NULL,
    created_by TEXT    NOT NULL
);
