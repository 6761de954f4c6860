-- Events are deduplicated on (sort_key, event_key) instead of event_key alone, as in the
-- SQLite schema: the sort key is part of what the key digests (the event's time), so the rule
-- is unchanged, but the index is ordered by event time and a status pool's inserts (delivered
-- in time order) append at its end instead of landing on random pages.
CREATE UNIQUE INDEX events_by_key ON events (sort_key, event_key);
ALTER TABLE events DROP CONSTRAINT events_event_key_key;
