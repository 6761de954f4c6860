-- Idempotency done right (see `fingerprint.rs`): each order keeps the canonical fingerprint
-- (SHA-256, hex) of the request it was created with, so a replay of its reference with a
-- different body is refused instead of recorded.
--
-- Orders stored before this migration have none (NULL). The store then computes it from the
-- stored `request` when there is one; an order the status pool revealed without a request
-- matches a request whose service (when known) is its own and which has every parcel it
-- knows. The first matching save fills the fingerprint in.
ALTER TABLE orders ADD COLUMN fingerprint TEXT;
