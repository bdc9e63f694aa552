-- A per-model revision, advanced by every write that locks the model
-- (versions, tags, aliases, reviews, policy): an alias or stage move
-- carries the revision its policy gate judged, and is refused when
-- another writer (another server) changed the model in between.
ALTER TABLE registered_models ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
