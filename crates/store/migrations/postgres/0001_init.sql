-- waybill's PostgreSQL store, first schema: the same tables, keys and derivations as the
-- SQLite schema (`migrations/0001_init.sql`), in PostgreSQL's types. Every text column uses
-- the "C" collation, so text sorts by bytes exactly as SQLite and Rust's `str` order do
-- (timeline ties and keyset pagination must agree on every backend, whatever the cluster's
-- locale). JSON columns are jsonb; times the store sets are timestamptz.

CREATE TABLE orders (
    account         TEXT COLLATE "C" NOT NULL,
    reference       TEXT COLLATE "C" NOT NULL,
    service_id      BIGINT,
    tracking_number TEXT COLLATE "C",
    request         JSONB,
    status          TEXT COLLATE "C" NOT NULL DEFAULT 'pending',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (account, reference)
);

CREATE INDEX orders_by_reference ON orders (reference, account);
CREATE INDEX orders_by_tracking_number ON orders (tracking_number)
    WHERE tracking_number IS NOT NULL;
CREATE INDEX orders_by_status ON orders (status, reference);

-- A parcel's `status` is generated from its timeline head, as in SQLite.
CREATE TABLE parcels (
    id                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account                  TEXT COLLATE "C" NOT NULL,
    reference                TEXT COLLATE "C" NOT NULL,
    merchant_tracking_number TEXT COLLATE "C" NOT NULL,
    tracking_number          TEXT COLLATE "C",
    head_sort_key            BIGINT,
    head_carrier             TEXT COLLATE "C",
    head_tracking_number     TEXT COLLATE "C",
    head_raw_status          TEXT COLLATE "C",
    head_status              TEXT COLLATE "C",
    has_events               BOOLEAN NOT NULL DEFAULT FALSE,
    status                   TEXT COLLATE "C" NOT NULL GENERATED ALWAYS AS (
        COALESCE(head_status, CASE WHEN has_events THEN 'unknown' ELSE 'pending' END)) STORED,
    last_refreshed_at        TIMESTAMPTZ,
    FOREIGN KEY (account, reference) REFERENCES orders (account, reference)
);

CREATE UNIQUE INDEX parcels_by_merchant_number ON parcels (merchant_tracking_number, account);
CREATE INDEX parcels_by_order ON parcels (account, reference);
CREATE INDEX parcels_by_tracking_number ON parcels (tracking_number)
    WHERE tracking_number IS NOT NULL;
-- Never-refreshed parcels first, as SQLite orders NULLs.
CREATE INDEX parcels_by_refresh ON parcels (last_refreshed_at NULLS FIRST, id);

CREATE TABLE pool_rows (
    account TEXT COLLATE "C" NOT NULL,
    cursor  BIGINT NOT NULL,
    item    JSONB NOT NULL,
    PRIMARY KEY (account, cursor)
);

-- See the SQLite schema for the scope columns; `event_key` is the same 16-byte digest.
CREATE TABLE events (
    id                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account                  TEXT COLLATE "C",
    reference                TEXT COLLATE "C",
    merchant_tracking_number TEXT COLLATE "C",
    carrier                  TEXT COLLATE "C" NOT NULL,
    tracking_number          TEXT COLLATE "C" NOT NULL,
    event_key                BYTEA NOT NULL UNIQUE,
    sort_key                 BIGINT NOT NULL,
    raw_status               TEXT COLLATE "C" NOT NULL,
    status                   TEXT COLLATE "C" NOT NULL,
    pool_cursor              BIGINT,
    event                    JSONB,
    CHECK (event IS NOT NULL OR (pool_cursor IS NOT NULL AND account IS NOT NULL))
);

CREATE INDEX events_by_merchant_number ON events (merchant_tracking_number, account)
    WHERE merchant_tracking_number IS NOT NULL;
CREATE INDEX events_by_order ON events (account, reference)
    WHERE merchant_tracking_number IS NULL;

CREATE TABLE cursors (
    account    TEXT COLLATE "C" PRIMARY KEY,
    cursor     BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE import_journal (
    account         TEXT COLLATE "C" NOT NULL,
    reference       TEXT COLLATE "C" NOT NULL,
    outcome         TEXT COLLATE "C" NOT NULL CHECK (outcome IN ('done', 'failed')),
    tracking_number TEXT COLLATE "C",
    message         TEXT,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, reference)
);

-- Work leases between workers sharing this database (PostgreSQL only): one row per named
-- piece of work (`pool:<account>` for draining an account's status pool), held by one
-- worker until `lease_until`. A worker that stops renewing loses it when it expires.
CREATE TABLE leases (
    name        TEXT COLLATE "C" PRIMARY KEY,
    holder      TEXT COLLATE "C" NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL
);

-- Which worker is looking up which merchant number right now: a number is claimed by at
-- most one worker at a time (the primary key), until `lease_until`.
CREATE TABLE refresh_leases (
    merchant_tracking_number TEXT COLLATE "C" PRIMARY KEY,
    holder                   TEXT COLLATE "C" NOT NULL,
    lease_until              TIMESTAMPTZ NOT NULL
);

-- Shared request budgets (a subscription key's rate limit across every process): `slots`
-- rows per budget, each holding the time of one granted request. A request is granted by
-- taking a slot whose last grant is older than the window, so no window holds more grants
-- than there are slots. `budget` is an identity (a digest), never a secret.
CREATE TABLE rate_slots (
    budget     TEXT COLLATE "C" NOT NULL,
    slot       INTEGER NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (budget, slot)
);
