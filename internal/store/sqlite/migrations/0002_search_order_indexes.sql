-- Run searches walk these indexes in value order when they filter or
-- order by a metric, param or tag (see sqlstore.SearchRuns). The run's
-- start time follows the value so that MLflow's tie-break (start_time
-- DESC) comes from the index too, even for keys with few distinct values.
CREATE INDEX latest_metrics_order ON latest_metrics (key, value, start_time, run_uuid);
CREATE INDEX params_order ON params (key, value, start_time, run_uuid);
CREATE INDEX tags_order ON tags (key, value, start_time, run_uuid);
-- Ordering runs by name (the UI's most common sort) walks this index.
CREATE INDEX runs_experiment_name ON runs (experiment_id, lifecycle_stage, name, start_time);
