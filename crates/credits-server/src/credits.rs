//! Reading an org's credits: the balance (with the low-balance flag) and the ledger's entries.

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
/// the org's entries is a 404 (a transaction not found, as an unknown checkout session is): the
/// value is well formed, so not a 422 (the spec allows any UUID there), and not an empty page,
/// which a client would read as the end of the history. Another org's ids are answered exactly
/// like ids that never existed.
pub async fn transactions(
    ctx: &ServerContext,
    access: &Access,
    limit: i64,
    types: &[String],
    before: Option<&str>,
) -> Result<Vec<LedgerEntry>, Error> {
    ctx.store.transactions(&access.org, limit, types, before).await?.ok_or_else(|| {
        Error::NotFound(format!(
            "Transaction {:?} (query parameter `before`) not found in this organization",
            before.unwrap_or_default()
        ))
    })
}
