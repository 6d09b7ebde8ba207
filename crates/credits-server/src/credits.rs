//! Reading an org's credits: the balance (with the low-balance flag) and the ledger's entries.

use credits_api::ValidationErrorItem;

use crate::ServerContext;
use crate::access::Access;
use crate::error::Error;
use crate::store::LedgerEntry;

/// An org's balance.
pub struct Balance {
    /// The sum of the ledger.
    pub balance: i64,
    /// Below the configured threshold.
    pub is_low: bool,
}

/// The balance of the caller's org.
pub async fn balance(ctx: &ServerContext, access: &Access) -> Result<Balance, Error> {
    let balance = ctx.store.balance(&access.org).await?;
    Ok(Balance { balance, is_low: balance < ctx.config.low_balance_threshold })
}

/// A page of the caller's org's ledger, newest first: the newest `limit` entries of the given
/// types (all when empty), older than the entry `before` when given. A `before` that is not one of
/// the org's entries is a 422 on `["query", "before"]`: the caller sent a value the operation
/// cannot use (a 404 would read as "no such org"), and another org's ids are answered exactly
/// like ids that never existed.
pub async fn transactions(
    ctx: &ServerContext,
    access: &Access,
    limit: i64,
    types: &[String],
    before: Option<&str>,
) -> Result<Vec<LedgerEntry>, Error> {
    ctx.store.transactions(&access.org, limit, types, before).await?.ok_or_else(|| {
        Error::Invalid(vec![ValidationErrorItem::at(
            &["query", "before"],
            "unknown_transaction",
            "before must be the id of one of this organization's transactions",
        )])
    })
}
