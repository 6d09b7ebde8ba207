-- Money after the purchase (docs/money.md).
-- A paid session keeps the payment intent and charge Stripe made for it, and the charge's receipt:
-- refunds and disputes name the charge, and the receipt is shown with the purchase.
ALTER TABLE checkout_sessions ADD COLUMN payment_intent_id TEXT;
ALTER TABLE checkout_sessions ADD COLUMN charge_id TEXT;
ALTER TABLE checkout_sessions ADD COLUMN receipt_url TEXT;
CREATE INDEX checkout_sessions_payment_intent ON checkout_sessions (payment_intent_id);

-- source_key names the Stripe object an entry answers for ("refund:re_...", "dispute:dp_...",
-- "dispute_reversal:dp_..."): the unique index, not a check before inserting, lets each be
-- written once however many deliveries race. Entries written before this change have none.
-- receipt_url: Stripe's receipt for the charge behind the entry, when it has one.
ALTER TABLE ledger ADD COLUMN source_key TEXT;
ALTER TABLE ledger ADD COLUMN receipt_url TEXT;
CREATE UNIQUE INDEX ledger_source_key ON ledger (source_key);
