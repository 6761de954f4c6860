-- The quarantine: status pool rows the adapter could not decode, kept exactly as received
-- (`raw`, their JSON text) with why (`error`), written in the same transaction as the page
-- they came in and its cursor move, so one bad row never stops sync and nothing is lost.
-- `cursor` is the row's own cursor when it was readable. A row is kept once per account and
-- raw text: `row_key` is the first 16 bytes of the SHA-256 of `raw`.
CREATE TABLE quarantine (
    id             INTEGER PRIMARY KEY,
    account        TEXT NOT NULL,
    cursor         INTEGER,
    row_key        BLOB NOT NULL,
    raw            TEXT NOT NULL,
    error          TEXT NOT NULL,
    quarantined_at TEXT NOT NULL,
    UNIQUE (account, row_key)
) STRICT;

CREATE INDEX quarantine_by_cursor ON quarantine (account, cursor);
