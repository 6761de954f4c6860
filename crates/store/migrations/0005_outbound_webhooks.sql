-- Outbound webhooks (`[[outbound_webhooks]]` in the configuration): the subscriptions the
-- running configuration names, and a durable outbox of deliveries.
--
-- A trigger on `parcels` writes one delivery per matching subscription whenever a parcel's
-- unified status or milestone changes, so the notification commits in the SAME transaction
-- as the events that caused it, whichever write path moved the parcel: a crash can neither
-- lose it nor write it twice. The worker then delivers each at least once.
--
-- Times are milliseconds since the Unix epoch on the database's clock (every comparison is
-- made by the database, so the clocks of several processes never disagree about it).

CREATE TABLE webhook_subscriptions (
    name         TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    -- A JSON array of the unified statuses that notify; an empty array: every change.
    statuses     TEXT NOT NULL,
    -- How long a delivery is retried before it is given up.
    retry_for_ms INTEGER NOT NULL
) STRICT;

-- One notification to one subscription. The change itself (who, from what, to what) is
-- copied at the moment it happened, so a retry or a redelivery sends the same body.
-- `state`: pending (to send, at `next_attempt_at_ms`), delivered, or failed (given up, or
-- its subscription was removed). `locked_until_ms` is a worker's claim while it sends.
CREATE TABLE webhook_deliveries (
    id                       INTEGER PRIMARY KEY,
    subscription             TEXT NOT NULL,
    parcel_id                INTEGER NOT NULL,
    account                  TEXT NOT NULL,
    reference                TEXT NOT NULL,
    merchant_tracking_number TEXT NOT NULL,
    tracking_number          TEXT,
    previous_status          TEXT NOT NULL,
    previous_milestone       TEXT NOT NULL,
    status                   TEXT NOT NULL,
    milestone                TEXT NOT NULL,
    carrier                  TEXT,
    raw_status               TEXT,
    changed_at_ms            INTEGER NOT NULL,
    state                    TEXT NOT NULL DEFAULT 'pending',
    attempts                 INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms       INTEGER NOT NULL,
    expires_at_ms            INTEGER NOT NULL,
    locked_until_ms          INTEGER,
    last_status_code         INTEGER,
    last_error               TEXT,
    finished_at_ms           INTEGER
) STRICT;

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms)
    WHERE state = 'pending';
-- A parcel's deliveries to one subscription are sent in order: only its oldest pending one is
-- due.
CREATE INDEX webhook_deliveries_by_parcel ON webhook_deliveries (subscription, parcel_id, id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_state ON webhook_deliveries (state, subscription);

-- With no subscription the SELECT yields no row, so a store without outbound webhooks pays
-- one empty scan per changed parcel.
CREATE TRIGGER parcels_notify_update AFTER UPDATE ON parcels
WHEN OLD.status IS NOT NEW.status OR OLD.milestone IS NOT NEW.milestone
BEGIN
    INSERT INTO webhook_deliveries (
        subscription, parcel_id, account, reference, merchant_tracking_number, tracking_number,
        previous_status, previous_milestone, status, milestone, carrier, raw_status,
        changed_at_ms, next_attempt_at_ms, expires_at_ms)
    SELECT s.name, NEW.id, NEW.account, NEW.reference, NEW.merchant_tracking_number,
           NEW.tracking_number, OLD.status, OLD.milestone, NEW.status, NEW.milestone,
           NEW.head_carrier, NEW.head_raw_status, t.now, t.now, t.now + s.retry_for_ms
      FROM webhook_subscriptions s,
           (SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) AS now) t
     WHERE s.statuses = '[]'
        OR EXISTS (SELECT 1 FROM json_each(s.statuses) WHERE value = NEW.status)
     ORDER BY s.name;
END;

-- A parcel stored with events already (its status is past `pending` from the start) is a
-- change too, from the state every parcel starts in.
CREATE TRIGGER parcels_notify_insert AFTER INSERT ON parcels
WHEN NEW.status IS NOT 'pending' OR NEW.milestone IS NOT 'announced'
BEGIN
    INSERT INTO webhook_deliveries (
        subscription, parcel_id, account, reference, merchant_tracking_number, tracking_number,
        previous_status, previous_milestone, status, milestone, carrier, raw_status,
        changed_at_ms, next_attempt_at_ms, expires_at_ms)
    SELECT s.name, NEW.id, NEW.account, NEW.reference, NEW.merchant_tracking_number,
           NEW.tracking_number, 'pending', 'announced', NEW.status, NEW.milestone,
           NEW.head_carrier, NEW.head_raw_status, t.now, t.now, t.now + s.retry_for_ms
      FROM webhook_subscriptions s,
           (SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) AS now) t
     WHERE s.statuses = '[]'
        OR EXISTS (SELECT 1 FROM json_each(s.statuses) WHERE value = NEW.status)
     ORDER BY s.name;
END;
