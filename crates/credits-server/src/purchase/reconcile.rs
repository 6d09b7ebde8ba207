//! `credits-server admin reconcile`: fulfils paid Checkout Sessions whose webhook never arrived
//! (`docs/purchase.md`, "Reconciliation"). It lists the sessions Stripe created in a window,
//! page by page, and runs [`fulfil`] on every paid one this server created and has not
//! fulfilled. Safe while servers run (the same routine as the webhook's, once by the ledger's
//! unique constraint); run twice, the second run changes nothing.

use super::fulfilment::{Fulfilment, fulfil};
use crate::error::Error;
use crate::store::Store;
use crate::stripe::Stripe;

/// What a run did: a line per session acted on, and counts.
#[derive(Debug, Default)]
pub struct Reconciliation {
    /// One line per session acted on (or needing a person).
    pub lines: Vec<String>,
    /// Sessions Stripe listed in the window.
    pub listed: usize,
    /// Paid sessions this server created.
    pub paid_here: usize,
    /// Credited by this run.
    pub fulfilled: usize,
    /// Credited before this run (or meanwhile, by a webhook or a returning buyer).
    pub already: usize,
}

impl std::fmt::Display for Reconciliation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        write!(
            f,
            "{} session(s) listed, {} paid here, {} fulfilled by this run, {} already fulfilled",
            self.listed, self.paid_here, self.fulfilled, self.already
        )
    }
}

/// Fulfils every paid session created at or after `since` (Unix seconds) that this server
/// created and has not credited.
pub async fn reconcile(store: &Store, stripe: &Stripe, since: i64) -> Result<Reconciliation, Error> {
    let mut report = Reconciliation::default();
    let sessions = stripe.sessions_created_since(since).await?;
    report.listed = sessions.len();
    for (session_id, paid) in sessions {
        if !paid {
            continue;
        }
        // `fulfil` tells a session this server did not create, and one credited before this run
        // (or meanwhile, by a webhook delivery or a returning buyer), without asking Stripe.
        let outcome = fulfil(store, stripe, &session_id).await?;
        if outcome == Fulfilment::Unknown {
            continue;
        }
        report.paid_here += 1;
        match outcome {
            Fulfilment::Granted(true) => {
                report.fulfilled += 1;
                let credits = store.session_terms(&session_id).await?.map(|t| t.credits).unwrap_or_default();
                report.lines.push(format!("fulfilled {session_id}: {credits} credits"));
            }
            Fulfilment::NothingSold => {
                report.lines.push(format!("{session_id}: paid for nothing at its bundle price; left for a person"))
            }
            Fulfilment::Granted(false) | Fulfilment::AlreadyFulfilled => report.already += 1,
            Fulfilment::NotPaid(_) | Fulfilment::Unknown => {}
        }
    }
    Ok(report)
}
