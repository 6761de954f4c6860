-- The quarantine, as in SQLite (`migrations/0004_quarantine.sql`): status pool rows the
-- adapter could not decode, kept raw with why, written with their page and its cursor move.
-- `raw` is TEXT, not JSONB: the row is kept byte for byte, even when it is not valid JSON
-- for PostgreSQL (or has duplicate keys, which JSONB would fold).
CREATE TABLE quarantine (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account        TEXT COLLATE "C" NOT NULL,
    cursor         BIGINT,
    row_key        BYTEA NOT NULL,
    raw            TEXT NOT NULL,
    error          TEXT NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (account, row_key)
);

CREATE INDEX quarantine_by_cursor ON quarantine (account, cursor);
