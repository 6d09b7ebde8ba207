//! Money flowing back after a purchase (`docs/money.md`): refunds and disputes take back the
//! credits the charge paid for, in proportion to the amount, with entries of their own.
//!
//! Each event only names a charge, a refund or a dispute; what was refunded or disputed is read
//! from Stripe again. Every entry answers for one Stripe object (`refund:re_...`,
//! `refund_reversal:re_...` for a refund that failed, `dispute:dp_...`, `dispute_reversal:dp_...`) and the ledger's unique `source_key` lets it be written once, so
//! duplicate, concurrent and out-of-order deliveries on several instances end the same way.

use std::collections::HashMap;

use stripe_shared::DisputeStatus;

use super::fulfilment::{Fulfilment, fulfil};
use crate::error::Error;
use crate::store::{SourcedEntry, Store};
use crate::stripe::{ChargeFacts, RefundFacts, Stripe};

/// The ledger's name for credits taken back by a refund.
const REFUND: &str = "refund";
/// The metrics' name for credits given back when a counted refund failed or was canceled (the
/// ledger entry's type stays `refund`: the API's types are the platform's).
const REFUND_REVERSAL: &str = "refund_reversal";
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

/// Whether a refund with Stripe's `status` gives money back (or may still): every status but
/// `failed` and `canceled`. A `pending` refund counts, so credits are not left to be spent
/// while the money is on its way back.
fn refund_counts(status: &str) -> bool {
    !matches!(status, "failed" | "canceled")
}

/// What one refund of a charge does to the ledger.
#[derive(Debug, PartialEq, Eq)]
enum RefundStep {
    /// A `refund` entry taking back this many credits.
    Take { refund_id: String, credits: i64 },
    /// The refund failed or was canceled: its `refund` entry (written first, taking `credits`,
    /// if it is not there yet) is undone.
    Undo { refund_id: String, credits: i64 },
}

/// The entries a charge's refunds call for, given the refunds (oldest first) and what each
/// refund's `refund` entry already took (by refund id; absent when not written). A new entry
/// brings what the charge's counting refunds have taken up to it to
/// `credits_for(granted, their cumulative amount, charge amount)`: so several partial refunds
/// never take more than the charge granted, and the rounding evens out after a refund fails.
/// A refund that does not count is undone with what it took, or (never written) with what it
/// would have taken, so a late delivery that still saw it succeed cannot take those credits.
fn refund_steps(purchase: &Purchase, refunds: &[RefundFacts], taken_by: &HashMap<String, i64>) -> Vec<RefundStep> {
    let share = |refunded| credits_for(purchase.granted, refunded, purchase.charge.amount);
    let (mut refunded, mut taken) = (0, 0);
    let mut steps = Vec::new();
    for refund in refunds {
        if !refund_counts(&refund.status) {
            let credits = (share(refunded + refund.amount) - taken).max(0);
            steps.push(RefundStep::Undo { refund_id: refund.id.clone(), credits });
            continue;
        }
        refunded += refund.amount;
        if let Some(&already) = taken_by.get(&refund.id) {
            taken += already;
            continue;
        }
        let credits = share(refunded) - taken;
        if credits > 0 {
            steps.push(RefundStep::Take { refund_id: refund.id.clone(), credits });
            taken += credits;
        }
    }
    steps
}

/// `charge.refunded`, and any change to one of the charge's refunds (`charge.refund.updated`,
/// `refund.updated`, `refund.failed`, which name the charge): brings the ledger to where
/// the charge's refunds stand at Stripe. One negative `refund` entry per refund that counts
/// (`refund_steps`), and for a refund that failed or was canceled, a positive `refund` entry
/// giving back what it took.
pub async fn refunds(store: &Store, stripe: &Stripe, charge_id: &str) -> Result<(), Error> {
    let Some(purchase) = purchase_of_charge(store, stripe, charge_id).await? else {
        tracing::info!(charge = %charge_id, "a refund of a charge this server did not credit; ignored");
        return Ok(());
    };
    let mut refunds = stripe.refunds_of_charge(charge_id).await?;
    // Stripe lists newest first, in the order it made them (its `created` is only seconds, so
    // two refunds in one second could not be told apart by it): oldest first is the reverse.
    refunds.reverse();
    let keys: Vec<String> = refunds.iter().map(|r| refund_key(&r.id)).collect();
    let taken_by: HashMap<String, i64> = store
        .sourced_amounts(&keys)
        .await?
        .into_iter()
        .filter_map(|(key, amount)| Some((key.strip_prefix("refund:")?.to_string(), -amount)))
        .collect();
    for step in refund_steps(&purchase, &refunds, &taken_by) {
        match step {
            RefundStep::Take { refund_id, credits } => {
                let written = store.insert_sourced_entry(&refund_entry(&purchase, &refund_id, credits)).await?;
                if written {
                    stripe.metrics().credits_reversed(REFUND, credits);
                }
                tracing::info!(refund = %refund_id, credits = -credits, written, "refund recorded");
            }
            RefundStep::Undo { refund_id, credits } => {
                let (taken, given_back) = store
                    .undo_sourced_entry(
                        &refund_entry(&purchase, &refund_id, credits),
                        &format!("refund_reversal:{refund_id}"),
                        &format!("Refund {refund_id} of charge {charge_id} failed or was canceled: credits given back"),
                    )
                    .await?;
                // Both 0 for a delivery that found the refund undone already.
                stripe.metrics().credits_reversed(REFUND, taken);
                stripe.metrics().credits_reversed(REFUND_REVERSAL, given_back);
                tracing::info!(refund = %refund_id, taken, given_back, "a refund that moved no money undone");
            }
        }
    }
    Ok(())
}

/// The ledger's key for the entry a refund writes.
fn refund_key(refund_id: &str) -> String {
    format!("refund:{refund_id}")
}

/// The `refund` entry taking back `credits` for one refund of the purchase's charge.
fn refund_entry<'a>(purchase: &'a Purchase, refund_id: &str, credits: i64) -> SourcedEntry<'a> {
    SourcedEntry {
        org_id: &purchase.org_id,
        amount: -credits,
        transaction_type: REFUND,
        description: format!("Refund {refund_id} of charge {}", purchase.charge.id),
        source_key: refund_key(refund_id),
        receipt_url: purchase.charge.receipt_url.as_deref(),
    }
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
    use std::collections::HashMap;

    use super::{Purchase, RefundStep, credits_for, refund_steps};
    use crate::stripe::{ChargeFacts, RefundFacts};

    /// A purchase of `granted` credits for a charge of `amount` cents.
    fn purchase(granted: i64, amount: i64) -> Purchase {
        let charge = ChargeFacts { id: "ch_1".into(), amount, payment_intent_id: None, receipt_url: None };
        Purchase { org_id: "org".into(), granted, charge }
    }

    fn refund(id: &str, amount: i64, status: &str) -> RefundFacts {
        RefundFacts { id: id.into(), amount, status: status.into() }
    }

    fn take(id: &str, credits: i64) -> RefundStep {
        RefundStep::Take { refund_id: id.into(), credits }
    }

    fn undo(id: &str, credits: i64) -> RefundStep {
        RefundStep::Undo { refund_id: id.into(), credits }
    }

    #[test]
    fn each_refund_that_counts_takes_its_cumulative_share_once() {
        let p = purchase(100, 500);
        let refunds =
            [refund("re_a", 167, "succeeded"), refund("re_b", 167, "pending"), refund("re_c", 166, "requires_action")];
        assert_eq!(
            refund_steps(&p, &refunds, &HashMap::new()),
            vec![take("re_a", 33), take("re_b", 33), take("re_c", 34)]
        );
        let written = HashMap::from([("re_a".to_string(), 33)]);
        assert_eq!(refund_steps(&p, &refunds, &written), vec![take("re_b", 33), take("re_c", 34)], "written once");
    }

    #[test]
    fn a_refund_worth_less_than_a_credit_so_far_writes_nothing() {
        // 4 cents of 500 is 0.8 of a credit: nothing yet; 4 more make 1.6, so the second takes 1.
        let p = purchase(100, 500);
        let refunds = [refund("re_a", 4, "succeeded"), refund("re_b", 4, "succeeded")];
        assert_eq!(refund_steps(&p, &refunds[..1], &HashMap::new()), vec![]);
        assert_eq!(refund_steps(&p, &refunds, &HashMap::new()), vec![take("re_b", 1)]);
    }

    #[test]
    fn a_refund_that_failed_or_was_canceled_is_undone_and_takes_no_share() {
        let p = purchase(100, 500);
        for status in ["failed", "canceled"] {
            // Never written: undone with what it would have taken, so a late writer finds it taken.
            let refunds = [refund("re_a", 167, status), refund("re_b", 167, "succeeded")];
            assert_eq!(
                refund_steps(&p, &refunds, &HashMap::new()),
                vec![undo("re_a", 33), take("re_b", 33)],
                "{status}"
            );
            // Written while it counted: undone (by what it took), and the next refund is counted
            // as if it had never been.
            let written = HashMap::from([("re_a".to_string(), 33)]);
            assert_eq!(refund_steps(&p, &refunds, &written), vec![undo("re_a", 33), take("re_b", 33)], "{status}");
        }
    }

    #[test]
    fn after_a_failure_the_rounding_evens_out_at_the_grant() {
        // 3 credits for 10 cents. re_a (5 cents) took 1, re_b (5 more) 2; then re_a failed and
        // re_c refunded its 5 cents again: the charge is refunded in full, so 3 in all.
        let p = purchase(3, 10);
        let refunds = [refund("re_a", 5, "failed"), refund("re_b", 5, "succeeded"), refund("re_c", 5, "succeeded")];
        let written = HashMap::from([("re_a".to_string(), 1), ("re_b".to_string(), 2)]);
        assert_eq!(refund_steps(&p, &refunds, &written), vec![undo("re_a", 1), take("re_c", 1)]);
    }

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
