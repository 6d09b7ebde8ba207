-- Tokens belong to one membership: an org and a role chosen when the token is issued (a request
-- is authorized by them, capped by the membership as it is now). They may expire, and record when
-- they were last used (at most once a minute).
--
-- Tokens issued before this change were the user's in every org. Those of a user with exactly one
-- membership are bound to it with its role; the others (a user in several orgs, or in none) are
-- revoked, since no single org is what the admin meant for them. All of them are marked `legacy`.
ALTER TABLE api_tokens
    ADD COLUMN org_id TEXT REFERENCES orgs (id),
    ADD COLUMN role TEXT CHECK (role IN ('owner', 'admin', 'member')),
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN legacy BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN revoked_reason TEXT;

UPDATE api_tokens SET legacy = TRUE;
UPDATE api_tokens
SET org_id = (SELECT m.org_id FROM memberships m WHERE m.user_id = api_tokens.user_id),
    role = (SELECT m.role FROM memberships m WHERE m.user_id = api_tokens.user_id)
WHERE (SELECT COUNT(*) FROM memberships m WHERE m.user_id = api_tokens.user_id) = 1;
UPDATE api_tokens
SET revoked_at = now(),
    revoked_reason = 'user-wide token of a user in several organisations (or none): reissue one per org'
WHERE org_id IS NULL AND revoked_at IS NULL;
CREATE INDEX api_tokens_membership ON api_tokens (org_id, user_id);

-- Idempotency keys belong to the token's membership (org and user), not to the user. Keys of a
-- user with one membership are carried to it; a key of a user in several orgs cannot be placed
-- and is dropped (it would have expired within 24 h anyway).
ALTER TABLE idempotency_keys ADD COLUMN org_id TEXT;
UPDATE idempotency_keys
SET org_id = (SELECT m.org_id FROM memberships m WHERE m.user_id = idempotency_keys.user_id)
WHERE (SELECT COUNT(*) FROM memberships m WHERE m.user_id = idempotency_keys.user_id) = 1;
DELETE FROM idempotency_keys WHERE org_id IS NULL;
ALTER TABLE idempotency_keys ALTER COLUMN org_id SET NOT NULL;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (org_id, user_id, idempotency_key);

-- The purge deletes by age.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX stripe_events_received ON stripe_events (received_at);
