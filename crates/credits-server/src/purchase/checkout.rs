//! Creating a Checkout Session for an org: the buyer's role, the deployment's allowed redirect
//! origins, then the Stripe call, wrapped in the `Idempotency-Key` protocol when the client sends
//! a key (claim the key; call Stripe with the key's own Stripe idempotency key; keep the answer
//! to replay, or release the key after a failure).

use credits_api::ValidationErrorItem;
use serde::{Deserialize, Serialize};

use crate::ServerContext;
use crate::access::Access;
use crate::error::Error;
use crate::hash::sha256_hex;
use crate::model::SessionState;
use crate::store::{IdempotencyClaim, KeyScope, NewSession, SessionRecord, new_stripe_key};

/// What the buyer asks for (its shape already checked against the spec).
pub struct Order<'a> {
    /// Bundles to buy.
    pub bundles: i64,
    /// Where Stripe sends the buyer after paying.
    pub success_url: &'a str,
    /// Where Stripe sends the buyer who gives up.
    pub cancel_url: &'a str,
}

/// A session Stripe created: the answer, and what is replayed for the same `Idempotency-Key`
/// (stored as JSON with these field names).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkout {
    /// Where the buyer pays.
    pub checkout_url: String,
    /// Stripe's id of the session.
    pub session_id: String,
}

/// What a claim's lease adds to the Stripe deadline.
const CLAIM_MARGIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Creates a Checkout Session for `order`, once per `idempotency_key` when one is given.
pub async fn create_checkout_session(
    ctx: &ServerContext,
    buyer: &Access,
    order: &Order<'_>,
    idempotency_key: Option<&str>,
) -> Result<Checkout, Error> {
    if !buyer.role.may_buy() {
        return Err(Error::Forbidden("Only owners and admins may buy credits".into()));
    }
    check_redirect_origins(order, &ctx.config.allowed_redirect_origins)?;
    let Some(key) = idempotency_key else {
        // Without a client key, each request is its own Stripe call.
        return create(ctx, buyer, order, &new_stripe_key()).await;
    };
    let stripe_key = match claim(ctx, buyer, order, key).await? {
        Ok(stripe_key) => stripe_key,
        Err(replay) => return Ok(replay),
    };
    let outcome = create(ctx, buyer, order, &stripe_key).await;
    match &outcome {
        Ok(checkout) => {
            let body = serde_json::to_string(checkout).map_err(|e| Error::Internal(e.to_string()))?;
            ctx.store.complete_idempotency_key(key_scope(buyer), key, 200, &body).await?;
        }
        Err(error) => ctx.store.release_idempotency_key(key_scope(buyer), key, !error.outcome_unknown()).await?,
    }
    outcome
}

/// An `Idempotency-Key` belongs to the membership of the token that sent it.
fn key_scope(buyer: &Access) -> KeyScope<'_> {
    KeyScope { org_id: &buyer.org.id, user_id: &buyer.caller.user_id }
}

/// One of the org's sessions, as the success page asks for it. While it is still open here, the
/// buyer may be back from paying before the webhook: Stripe is asked (at most every few seconds
/// per session) and a paid session is fulfilled before it is read (`docs/purchase.md`).
pub async fn session(ctx: &ServerContext, access: &Access, session_id: &str) -> Result<SessionRecord, Error> {
    let not_found = || Error::NotFound(format!("Checkout session {session_id:?} not found"));
    let session = ctx.store.session(&access.org, session_id).await?.ok_or_else(not_found)?;
    if session.state != SessionState::OPEN {
        return Ok(session);
    }
    super::refresh_on_return(ctx, session_id).await;
    ctx.store.session(&access.org, session_id).await?.ok_or_else(not_found)
}

/// The one rule on redirect URLs that the spec cannot state, since it is the deployment's: when
/// allowed origins are configured, each URL's origin must be one of them (422, one item per URL).
/// Their shape (https or a loopback http, no userinfo) is the spec's `pattern`, enforced by the
/// generated extractor before this runs.
fn check_redirect_origins(order: &Order<'_>, allowed: &[String]) -> Result<(), Error> {
    if allowed.is_empty() {
        return Ok(());
    }
    let problems: Vec<ValidationErrorItem> = [("success_url", order.success_url), ("cancel_url", order.cancel_url)]
        .into_iter()
        .filter_map(|(field, url)| {
            let origin = url::Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
            (!allowed.iter().any(|a| a.trim_end_matches('/') == origin)).then(|| {
                ValidationErrorItem::at(
                    &["body", field],
                    "origin_not_allowed",
                    format!("{field} must point at an allowed origin, not {origin}"),
                )
            })
        })
        .collect();
    if problems.is_empty() { Ok(()) } else { Err(Error::Invalid(problems)) }
}

/// Claims the client's key: `Ok(the Stripe key to use)` to go ahead, `Err(answer)` to replay an
/// answer already given; 409 when the key came with another request or is still in flight.
async fn claim(
    ctx: &ServerContext,
    buyer: &Access,
    order: &Order<'_>,
    key: &str,
) -> Result<Result<String, Checkout>, Error> {
    // The request as JSON: unambiguous, unlike any separator-joined form of its fields.
    let canonical = serde_json::to_vec(&(&buyer.org.slug, order.bundles, order.success_url, order.cancel_url))
        .map_err(|e| Error::Internal(e.to_string()))?;
    let lifetime = chrono::TimeDelta::from_std(ctx.config.retention.idempotency_keys)
        .map_err(|e| Error::Internal(format!("idempotency retention: {e}")))?;
    // The claim's holder answers or gives up within the Stripe deadline; the margin covers the
    // database writes around the call. A claim older than that belongs to a server that died
    // half-way (killed, crashed), and the next request with the key takes it over.
    let lease = ctx.config.stripe.deadline + CLAIM_MARGIN;
    match ctx.store.claim_idempotency_key(key_scope(buyer), key, &sha256_hex(&canonical), lifetime, lease).await? {
        IdempotencyClaim::Claimed { stripe_key } => Ok(Ok(stripe_key)),
        IdempotencyClaim::Replay { body, .. } => {
            let replay = serde_json::from_str(&body).map_err(|e| Error::Internal(format!("stored response: {e}")))?;
            Ok(Err(replay))
        }
        IdempotencyClaim::Mismatch => {
            Err(Error::Conflict("Idempotency-Key was already used with a different request".into()))
        }
        IdempotencyClaim::InFlight => {
            Err(Error::Conflict("A request with this Idempotency-Key is still in progress".into()))
        }
    }
}

/// Asks Stripe for the session and records it with the terms in force.
async fn create(ctx: &ServerContext, buyer: &Access, order: &Order<'_>, stripe_key: &str) -> Result<Checkout, Error> {
    let price = &ctx.config.bundle_price;
    let created = ctx
        .stripe
        .create_session(stripe_key, &buyer.org.slug, order.bundles as u64, price, order.success_url, order.cancel_url)
        .await?;
    ctx.store
        .insert_session(&NewSession {
            id: &created.id,
            org: &buyer.org,
            user_id: &buyer.caller.user_id,
            bundles: order.bundles,
            price,
            credits_per_bundle: ctx.config.credits_per_bundle,
            url: &created.url,
        })
        .await?;
    Ok(Checkout { checkout_url: created.url, session_id: created.id })
}
