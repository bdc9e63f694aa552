-- Run searches find the rows of a metric, param or tag key through these
-- indexes, in value order for metrics. Param and tag values are not
-- indexed: a B-tree entry is limited to about 2.7 kB and params (6,000
-- characters) and tags (8,000) may exceed it; the planner sorts instead.
CREATE INDEX latest_metrics_order ON latest_metrics (key, value, start_time, run_uuid);
CREATE INDEX params_key ON params (key);
CREATE INDEX tags_key ON tags (key);
-- Ordering runs by name (the UI's most common sort) walks this index.
CREATE INDEX runs_experiment_name ON runs (experiment_id, lifecycle_stage, name, start_time);
