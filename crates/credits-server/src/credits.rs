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

/// The newest `limit` ledger entries of the caller's org, of the given types (all when empty).
pub async fn transactions(
    ctx: &ServerContext,
    access: &Access,
    limit: i64,
    types: &[String],
) -> Result<Vec<LedgerEntry>, Error> {
    Ok(ctx.store.transactions(&access.org, limit, types).await?)
}
