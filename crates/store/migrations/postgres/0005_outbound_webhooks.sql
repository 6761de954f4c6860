-- Outbound webhooks, as in SQLite (`migrations/0005_outbound_webhooks.sql`): the configured
-- subscriptions, and a durable outbox of deliveries written by a trigger on `parcels` in the
-- same transaction as the events that changed a parcel's status or milestone. Times are
-- milliseconds since the Unix epoch on the database server's clock.

CREATE TABLE webhook_subscriptions (
    name         TEXT COLLATE "C" PRIMARY KEY,
    url          TEXT NOT NULL,
    -- A JSON array of the unified statuses that notify; an empty array: every change. TEXT
    -- as in SQLite, so both backends bind it alike.
    statuses     TEXT NOT NULL,
    retry_for_ms BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription             TEXT COLLATE "C" NOT NULL,
    parcel_id                BIGINT NOT NULL,
    account                  TEXT COLLATE "C" NOT NULL,
    reference                TEXT COLLATE "C" NOT NULL,
    merchant_tracking_number TEXT COLLATE "C" NOT NULL,
    tracking_number          TEXT COLLATE "C",
    previous_status          TEXT NOT NULL,
    previous_milestone       TEXT NOT NULL,
    status                   TEXT NOT NULL,
    milestone                TEXT NOT NULL,
    carrier                  TEXT,
    raw_status               TEXT,
    changed_at_ms            BIGINT NOT NULL,
    state                    TEXT NOT NULL DEFAULT 'pending',
    attempts                 BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms       BIGINT NOT NULL,
    expires_at_ms            BIGINT NOT NULL,
    locked_until_ms          BIGINT,
    last_status_code         BIGINT,
    last_error               TEXT,
    finished_at_ms           BIGINT
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_parcel ON webhook_deliveries (subscription, parcel_id, id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_state ON webhook_deliveries (state, subscription);

-- One delivery per matching subscription for a parcel whose status or milestone changed
-- (an inserted parcel changed from `pending` / `announced`, the state every parcel starts in).
CREATE FUNCTION waybill_notify_parcel_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    now_ms BIGINT := (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT;
    old_status TEXT := 'pending';
    old_milestone TEXT := 'announced';
BEGIN
    IF TG_OP = 'UPDATE' THEN
        old_status := OLD.status;
        old_milestone := OLD.milestone;
    END IF;
    IF old_status IS DISTINCT FROM NEW.status OR old_milestone IS DISTINCT FROM NEW.milestone THEN
        INSERT INTO webhook_deliveries (
            subscription, parcel_id, account, reference, merchant_tracking_number,
            tracking_number, previous_status, previous_milestone, status, milestone, carrier,
            raw_status, changed_at_ms, next_attempt_at_ms, expires_at_ms)
        SELECT s.name, NEW.id, NEW.account, NEW.reference, NEW.merchant_tracking_number,
               NEW.tracking_number, old_status, old_milestone, NEW.status, NEW.milestone,
               NEW.head_carrier, NEW.head_raw_status, now_ms, now_ms, now_ms + s.retry_for_ms
          FROM webhook_subscriptions s
         WHERE s.statuses = '[]' OR s.statuses::jsonb ? NEW.status
         ORDER BY s.name;
    END IF;
    RETURN NULL;
END;
$$;

-- The WHEN clauses keep the function from being called for the many updates that change
-- neither (refresh times, heads that move within one status).
CREATE TRIGGER parcels_notify_update AFTER UPDATE ON parcels FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.milestone IS DISTINCT FROM NEW.milestone)
    EXECUTE FUNCTION waybill_notify_parcel_change();
CREATE TRIGGER parcels_notify_insert AFTER INSERT ON parcels FOR EACH ROW
    WHEN (NEW.status <> 'pending' OR NEW.milestone <> 'announced')
    EXECUTE FUNCTION waybill_notify_parcel_change();
