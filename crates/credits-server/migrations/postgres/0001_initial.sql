-- Organisations, their members and API tokens; checkout sessions; the append-only credit ledger;
-- Stripe events already handled; idempotency records. Timestamps are RFC 3339 text (UTC).
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE memberships (
    org_id TEXT NOT NULL REFERENCES orgs (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    PRIMARY KEY (org_id, user_id)
);

-- Only a SHA-256 of each token is kept; the token itself is shown once.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- The price and credits per bundle in force when the session was created: what a payment for it
-- is checked against, even if the configuration changes before the buyer pays.
CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    bundles BIGINT NOT NULL,
    credits BIGINT NOT NULL,
    price_id TEXT,
    unit_amount BIGINT,
    currency TEXT,
    credits_per_bundle BIGINT NOT NULL,
    status TEXT NOT NULL,
    payment_status TEXT NOT NULL,
    checkout_url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    fulfilled_at TEXT
);

-- Append-only: rows are inserted, never updated or deleted. A checkout session can credit the
-- ledger once: the unique constraint, not a check before inserting, is what guarantees it.
CREATE TABLE ledger (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    amount BIGINT NOT NULL,
    transaction_type TEXT NOT NULL,
    description TEXT,
    checkout_session_id TEXT UNIQUE REFERENCES checkout_sessions (id),
    created_at TEXT NOT NULL
);
CREATE INDEX ledger_org ON ledger (org_id, seq);

CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    received_at TEXT NOT NULL
);

-- stripe_key: the idempotency key sent to Stripe for this request, kept while the outcome of a
-- Stripe call is unknown so that a retry reaches the same Checkout Session. created_at starts the
-- key's 24 h; claimed_at is when a request last took it (an old claim was abandoned).
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    stripe_key TEXT NOT NULL,
    response_status BIGINT,
    response_body TEXT,
    created_at TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
