-- Timestamps become timestamptz. They were RFC 3339 text in UTC, which PostgreSQL reads as it is.
-- (SQLite has no time type: there they stay RFC 3339 text, and this change has no SQLite file.)
ALTER TABLE orgs ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;
ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;
ALTER TABLE api_tokens
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN revoked_at TYPE timestamptz USING revoked_at::timestamptz;
ALTER TABLE checkout_sessions
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN fulfilled_at TYPE timestamptz USING fulfilled_at::timestamptz;
ALTER TABLE ledger ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;
ALTER TABLE stripe_events ALTER COLUMN received_at TYPE timestamptz USING received_at::timestamptz;
ALTER TABLE idempotency_keys
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN claimed_at TYPE timestamptz USING claimed_at::timestamptz;
