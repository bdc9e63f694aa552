-- Serving rollouts (internal/serving): the rollout and previous version of
-- each endpoint as JSON, and every endpoint's history of transitions.
ALTER TABLE deployments ADD COLUMN state TEXT NOT NULL DEFAULT '{}';

CREATE TABLE deployment_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint          TEXT    NOT NULL,
    time              INTEGER NOT NULL,
    actor             TEXT    NOT NULL,
    action            TEXT    NOT NULL,
    model             TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    candidate_model   TEXT    NOT NULL DEFAULT '',
    candidate_version INTEGER NOT NULL DEFAULT 0,
    weight            INTEGER NOT NULL DEFAULT 0,
    reason            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX deployment_events_endpoint ON deployment_events (endpoint, id);
CREATE INDEX deployment_events_version ON deployment_events (model, version);
CREATE INDEX deployment_events_candidate ON deployment_events (candidate_model, candidate_version);
