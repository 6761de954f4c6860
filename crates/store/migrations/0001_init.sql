-- waybill's store, first schema. Identifiers and statuses are stored as text exactly as the
-- domain types print them (statuses as `TrackingStatus::as_str`); JSON columns hold the
-- domain types serialised with serde. See `src/store/sqlite.rs` for the join rules.

-- Orders, one per (Starmile account, partner reference). `service_id` and `request` are null
-- for orders discovered in the status pool. `status` is maintained by the store: the least
-- advanced status of the order's parcels (lifecycle order) or, for an order with no known
-- parcel, what its order-scoped events say.
CREATE TABLE orders (
    account         TEXT NOT NULL,
    reference       TEXT NOT NULL,
    service_id      INTEGER,
    tracking_number TEXT,
    request         TEXT,
    status          TEXT NOT NULL DEFAULT 'pending',
    created_at      TEXT NOT NULL,
    PRIMARY KEY (account, reference)
) STRICT;

CREATE INDEX orders_by_reference ON orders (reference, account);
CREATE INDEX orders_by_tracking_number ON orders (tracking_number)
    WHERE tracking_number IS NOT NULL;

-- Parcels, identified by their merchant tracking number within an account. `status` is the
-- current status of the parcel's merged timeline (`Timeline::current_status`), derived from
-- the timeline's head: the newest event whose status is known, in timeline order
-- (sort key, carrier, tracking number, raw status). Every write that adds events moves the
-- head forward (a maximum, so replays and page boundaries cannot change it).
CREATE TABLE parcels (
    id                       INTEGER PRIMARY KEY,
    account                  TEXT NOT NULL,
    reference                TEXT NOT NULL,
    merchant_tracking_number TEXT NOT NULL,
    tracking_number          TEXT,
    head_sort_key            INTEGER,
    head_carrier             TEXT,
    head_tracking_number     TEXT,
    head_raw_status          TEXT,
    head_status              TEXT,
    has_events               INTEGER NOT NULL DEFAULT 0,
    status                   TEXT NOT NULL GENERATED ALWAYS AS (
        COALESCE(head_status, CASE WHEN has_events THEN 'unknown' ELSE 'pending' END)) STORED,
    last_refreshed_at        TEXT,
    FOREIGN KEY (account, reference) REFERENCES orders (account, reference)
) STRICT;

-- Unique per account; leading with the number also serves cross-account lookups.
CREATE UNIQUE INDEX parcels_by_merchant_number ON parcels (merchant_tracking_number, account);
CREATE INDEX parcels_by_order ON parcels (account, reference);
CREATE INDEX parcels_by_tracking_number ON parcels (tracking_number)
    WHERE tracking_number IS NOT NULL;
CREATE INDEX parcels_by_refresh ON parcels (last_refreshed_at);

-- Raw status pool rows exactly as received (a `FeedItem` as JSON), per account and cursor.
CREATE TABLE pool_rows (
    account TEXT NOT NULL,
    cursor  INTEGER NOT NULL,
    item    TEXT NOT NULL,
    PRIMARY KEY (account, cursor)
) STRICT;

-- Tracking events from every carrier, deduplicated on `event_key` (the first 16 bytes of the
-- SHA-256 of the JSON of the domain
-- `EventKey`). The scope columns say which parcels an event belongs to:
--   account + merchant_tracking_number   one parcel of that account (Starmile parcel rows)
--   account + reference, no merchant no. every parcel of that order (Starmile order rows)
--   no account + merchant_tracking_number that parcel in any account (StarShipIT events)
-- `sort_key` is the event time's sort key in nanoseconds since the Unix epoch (saturating);
-- `raw_status` and `status` are copies of the event's fields so statuses are derived in SQL.
-- An event that came from the pool is not stored twice: `event` is null and `pool_cursor`
-- names its row in `pool_rows` (with `account`); other events carry their JSON in `event`.
CREATE TABLE events (
    id                       INTEGER PRIMARY KEY,
    account                  TEXT,
    reference                TEXT,
    merchant_tracking_number TEXT,
    carrier                  TEXT NOT NULL,
    tracking_number          TEXT NOT NULL,
    event_key                BLOB NOT NULL UNIQUE,
    sort_key                 INTEGER NOT NULL,
    raw_status               TEXT NOT NULL,
    status                   TEXT NOT NULL,
    pool_cursor              INTEGER,
    event                    TEXT,
    CHECK (event IS NOT NULL OR (pool_cursor IS NOT NULL AND account IS NOT NULL))
) STRICT;

CREATE INDEX events_by_merchant_number ON events (merchant_tracking_number, account)
    WHERE merchant_tracking_number IS NOT NULL;
CREATE INDEX events_by_order ON events (account, reference)
    WHERE merchant_tracking_number IS NULL;

-- Each account's status pool cursor; it only moves forward.
CREATE TABLE cursors (
    account    TEXT PRIMARY KEY,
    cursor     INTEGER NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- How each bulk-import row ended, so a re-run creates nothing twice.
CREATE TABLE import_journal (
    account         TEXT NOT NULL,
    reference       TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('done', 'failed')),
    tracking_number TEXT,
    message         TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (account, reference)
) STRICT;
