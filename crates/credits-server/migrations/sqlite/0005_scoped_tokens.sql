-- Tokens belong to one membership: an org and a role chosen when the token is issued (a request
-- is authorized by them, capped by the membership as it is now). They may expire, and record when
-- they were last used (at most once a minute).
--
-- Tokens issued before this change were the user's in every org. Those of a user with exactly one
-- membership are bound to it with its role; the others (a user in several orgs, or in none) are
-- revoked, since no single org is what the admin meant for them. All of them are marked `legacy`.
ALTER TABLE api_tokens ADD COLUMN org_id TEXT REFERENCES orgs (id);
ALTER TABLE api_tokens ADD COLUMN role TEXT CHECK (role IN ('owner', 'admin', 'member'));
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
ALTER TABLE api_tokens ADD COLUMN legacy BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE api_tokens ADD COLUMN revoked_reason TEXT;

UPDATE api_tokens SET legacy = TRUE;
UPDATE api_tokens
SET org_id = (SELECT m.org_id FROM memberships m WHERE m.user_id = api_tokens.user_id),
    role = (SELECT m.role FROM memberships m WHERE m.user_id = api_tokens.user_id)
WHERE (SELECT COUNT(*) FROM memberships m WHERE m.user_id = api_tokens.user_id) = 1;
UPDATE api_tokens
SET revoked_at = strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'),
    revoked_reason = 'user-wide token of a user in several organisations (or none): reissue one per org'
WHERE org_id IS NULL AND revoked_at IS NULL;
CREATE INDEX api_tokens_membership ON api_tokens (org_id, user_id);

-- Idempotency keys belong to the token's membership (org and user), not to the user. Keys of a
-- user with one membership are carried to it; a key of a user in several orgs cannot be placed
-- and is dropped (it would have expired within 24 h anyway).
CREATE TABLE idempotency_keys_scoped (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    stripe_key TEXT NOT NULL,
    response_status BIGINT,
    response_body TEXT,
    created_at TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id, idempotency_key)
);
INSERT INTO idempotency_keys_scoped
SELECT m.org_id, k.user_id, k.idempotency_key, k.request_hash, k.stripe_key, k.response_status, k.response_body,
       k.created_at, k.claimed_at
FROM idempotency_keys k JOIN memberships m ON m.user_id = k.user_id
WHERE (SELECT COUNT(*) FROM memberships n WHERE n.user_id = k.user_id) = 1;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_scoped RENAME TO idempotency_keys;

-- The purge deletes by age.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX stripe_events_received ON stripe_events (received_at);
