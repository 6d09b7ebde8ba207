//! Money flowing back after a purchase (`docs/money.md`): refunds and disputes take back the
//! credits the charge paid for, in proportion to the amount, with entries of their own.
//!
//! Each event only names a charge or a dispute; what was refunded or disputed is read from Stripe
//! again. Every entry answers for one Stripe object (`refund:re_...`, `dispute:dp_...`,
//! `dispute_reversal:dp_...`) and the ledger's unique `source_key` lets it be written once, so
//! duplicate, concurrent and out-of-order deliveries on several instances end the same way.

use stripe_shared::DisputeStatus;

use super::fulfilment::{Fulfilment, fulfil};
use crate::error::Error;
use crate::store::{SourcedEntry, Store};
use crate::stripe::{ChargeFacts, Stripe};

/// The ledger's name for credits taken back by a refund.
const REFUND: &str = "refund";
/// The ledger's name for credits held back while a dispute is open (or lost).
const DISPUTE: &str = "dispute";
/// The ledger's name for credits given back when a dispute is won.
const DISPUTE_REVERSAL: &str = "dispute_reversal";

/// Credits taken back when `reversed` of a charge of `charge_amount` (both in minor units) has
/// gone back to the buyer, from the `granted` credits it paid for: rounded down, so the org keeps
/// a fraction of a credit rather than losing one it paid for, and all of them once all of it has.
pub fn credits_for(granted: i64, reversed: i64, charge_amount: i64) -> i64 {
    if charge_amount <= 0 || granted <= 0 {
        return 0;
    }
    let reversed = reversed.clamp(0, charge_amount);
    (i128::from(granted) * i128::from(reversed) / i128::from(charge_amount)) as i64
}

/// The purchase a charge paid for: its org, the credits granted and the charge's receipt.
struct Purchase {
    org_id: String,
    granted: i64,
    charge: ChargeFacts,
}

/// Finds the purchase behind `charge_id`, fulfilling it first if that was missed (a refund can
/// overtake a lost `checkout.session.completed`). `None`: not a purchase this server made, or
/// nothing was granted for it.
async fn purchase_of_charge(store: &Store, stripe: &Stripe, charge_id: &str) -> Result<Option<Purchase>, Error> {
    let charge = match stripe.charge(charge_id).await {
        Ok(charge) => charge,
        // Signed with our secret, yet about a charge Stripe does not have: nothing of ours.
        Err(Error::StripeNoSuchObject(_)) => return Ok(None),
        Err(other) => return Err(other),
    };
    let Some(intent) = charge.payment_intent_id.as_deref() else { return Ok(None) };
    let session_id = match store.session_by_payment_intent(intent).await? {
        Some(id) => id,
        // Fulfilled before payment intents were recorded, or not fulfilled yet: Stripe knows.
        None => match stripe.session_of_payment_intent(intent).await? {
            Some(id) => id,
            None => return Ok(None),
        },
    };
    if fulfil(store, stripe, &session_id).await? == Fulfilment::Unknown {
        return Ok(None);
    }
    let Some(terms) = store.session_terms(&session_id).await? else { return Ok(None) };
    if !terms.fulfilled {
        return Ok(None);
    }
    Ok(Some(Purchase { org_id: terms.org_id, granted: terms.credits, charge }))
}

/// `charge.refunded`: one negative `refund` entry per Stripe refund of the charge. Each entry is
/// computed from the cumulative amount refunded up to it (refunds in the order Stripe lists them),
/// minus what the refunds before it took, so the refunds of a charge never take back more than
/// it granted. Refunds that failed or were canceled take nothing.
pub async fn refunds(store: &Store, stripe: &Stripe, charge_id: &str) -> Result<(), Error> {
    let Some(purchase) = purchase_of_charge(store, stripe, charge_id).await? else {
        tracing::info!(charge = %charge_id, "a refund of a charge this server did not credit; ignored");
        return Ok(());
    };
    let mut refunds = stripe.refunds_of_charge(charge_id).await?;
    refunds.retain(|r| r.status != "failed" && r.status != "canceled");
    // Stripe lists newest first, in the order it made them (its `created` is only seconds, so
    // two refunds in one second could not be told apart by it): oldest first is the reverse.
    refunds.reverse();
    let (mut refunded, mut taken) = (0, 0);
    for refund in refunds {
        refunded += refund.amount;
        let taken_so_far = credits_for(purchase.granted, refunded, purchase.charge.amount);
        let amount = taken_so_far - taken;
        taken = taken_so_far;
        if amount == 0 {
            continue;
        }
        let written = store
            .insert_sourced_entry(&SourcedEntry {
                org_id: &purchase.org_id,
                amount: -amount,
                transaction_type: REFUND,
                description: format!("Refund {} of charge {charge_id}", refund.id),
                source_key: format!("refund:{}", refund.id),
                receipt_url: purchase.charge.receipt_url.as_deref(),
            })
            .await?;
        if written {
            stripe.metrics().credits_reversed(REFUND, amount);
        }
        tracing::info!(refund = %refund.id, credits = -amount, written, "refund recorded");
    }
    Ok(())
}

/// Any `charge.dispute.*` event: brings the ledger to where the dispute stands at Stripe. A
/// dispute holds back the disputed credits (a negative `dispute` entry), and a dispute won gives
/// them back (a positive `dispute_reversal`); lost, the hold stays. Both entries are written
/// whenever Stripe says won, so a `closed` that overtakes `created` still ends with the credits
/// taken once and given back once. Inquiries (`warning_*`) move no money and hold nothing.
pub async fn dispute(store: &Store, stripe: &Stripe, dispute_id: &str) -> Result<(), Error> {
    let dispute = match stripe.dispute(dispute_id).await {
        Ok(dispute) => dispute,
        Err(Error::StripeNoSuchObject(_)) => {
            tracing::info!(dispute = %dispute_id, "a dispute Stripe does not have; ignored");
            return Ok(());
        }
        Err(other) => return Err(other),
    };
    if matches!(
        dispute.status,
        DisputeStatus::WarningNeedsResponse | DisputeStatus::WarningUnderReview | DisputeStatus::WarningClosed
    ) {
        return Ok(());
    }
    let Some(purchase) = purchase_of_charge(store, stripe, &dispute.charge_id).await? else {
        tracing::info!(dispute = %dispute.id, "a dispute of a charge this server did not credit; ignored");
        return Ok(());
    };
    let held = credits_for(purchase.granted, dispute.amount, purchase.charge.amount);
    if held == 0 {
        return Ok(());
    }
    let entry = |amount, transaction_type, source_key: String, description: String| SourcedEntry {
        org_id: &purchase.org_id,
        amount,
        transaction_type,
        description,
        source_key,
        receipt_url: None,
    };
    let charge = &dispute.charge_id;
    let held_now = store
        .insert_sourced_entry(&entry(
            -held,
            DISPUTE,
            format!("dispute:{}", dispute.id),
            format!("Held back while dispute {} of charge {charge} is open", dispute.id),
        ))
        .await?;
    if held_now {
        stripe.metrics().credits_reversed(DISPUTE, held);
    }
    if dispute.status == DisputeStatus::Won {
        let given_back = store
            .insert_sourced_entry(&entry(
                held,
                DISPUTE_REVERSAL,
                format!("dispute_reversal:{}", dispute.id),
                format!("Dispute {} of charge {charge} won", dispute.id),
            ))
            .await?;
        if given_back {
            stripe.metrics().credits_reversed(DISPUTE_REVERSAL, held);
        }
    }
    tracing::info!(dispute = %dispute.id, held, status = dispute.status.as_str(), "dispute recorded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::credits_for;

    #[test]
    fn partial_refunds_never_take_more_than_was_granted() {
        // 100 credits for 1000 cents, refunded in three parts of 333, 333 and 334.
        let steps: Vec<i64> = [333, 666, 1000].iter().map(|&r| credits_for(100, r, 1000)).collect();
        assert_eq!(steps, vec![33, 66, 100]);
        assert_eq!(credits_for(300, 500, 1500), 100);
        assert_eq!(credits_for(100, 2000, 1000), 100, "never more than granted");
        assert_eq!(credits_for(100, 5, 1000), 0, "a fraction of a credit stays with the org");
        assert_eq!(credits_for(100, 10, 0), 0);
    }
}
