-- Each org's balance, kept in step with the ledger: every ledger write adds its amount here in the
-- same transaction, so reading a balance costs one row however long the ledger grows. Existing
-- ledgers are summed once.
CREATE TABLE org_balances (
    org_id TEXT PRIMARY KEY REFERENCES orgs (id),
    balance BIGINT NOT NULL
);

INSERT INTO org_balances (org_id, balance)
SELECT org_id, CAST(SUM(amount) AS BIGINT) FROM ledger GROUP BY org_id;
