-- Events are deduplicated on (key_time, event_key) instead of event_key alone, as in the
-- SQLite schema. `key_time` is the event time as the key digests it: the sort key, or 0 for a
-- time the source did not give (whose sort key is the receipt, left out of the key because
-- every redelivery has its own). So the rule is unchanged, but the index is ordered by event
-- time and a status pool's inserts (delivered in time order) append at its end instead of
-- landing on random pages.
ALTER TABLE events ADD COLUMN key_time BIGINT;
UPDATE events
   SET key_time = CASE WHEN event -> 'occurred_at' ->> 'kind' = 'unknown' THEN 0
                       ELSE sort_key END;
ALTER TABLE events ALTER COLUMN key_time SET NOT NULL;
CREATE UNIQUE INDEX events_by_key ON events (key_time, event_key);
ALTER TABLE events DROP CONSTRAINT events_event_key_key;
