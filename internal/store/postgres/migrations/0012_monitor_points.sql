-- Monitored time series (internal/monitor): labels as canonical JSON.
CREATE TABLE monitor_points (
    series TEXT    NOT NULL,
    labels TEXT    NOT NULL,
    time   BIGINT NOT NULL,
    value  DOUBLE PRECISION NOT NULL
);
CREATE INDEX monitor_points_series ON monitor_points (series, labels, time);
CREATE INDEX monitor_points_time ON monitor_points (time);
