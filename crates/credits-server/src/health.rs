//! Whether this instance should get traffic, for `GET /readyz`: the database answers within a
//! short deadline and carries every migration this build knows. Stripe is deliberately left out:
//! its outage affects purchases on every instance alike, and taking instances out of a load
//! balancer would only turn reads of the balance into failures too.

use std::time::Duration;

use crate::ServerContext;
use crate::error::Error;

/// A probe must answer quickly; a database slower than this is as good as absent.
const DATABASE_DEADLINE: Duration = Duration::from_secs(2);

/// `Ok` when ready; [`Error::Unavailable`] (503) with the reason otherwise.
pub async fn ready(ctx: &ServerContext) -> Result<(), Error> {
    match tokio::time::timeout(DATABASE_DEADLINE, ctx.store.migrations_applied()).await {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(Error::Unavailable("the database lacks migrations this build needs".into())),
        Ok(Err(e)) => Err(Error::Unavailable(format!("database: {e}"))),
        Err(_) => Err(Error::Unavailable(format!("the database did not answer within {DATABASE_DEADLINE:?}"))),
    }
}
