//! Checkout Sessions: the `/v1/checkout/sessions` endpoints and the session's life cycle
//! (open → complete paid, or complete unpaid → async payment succeeded / failed; open → expired),
//! each transition emitting the event Stripe emits. Completing a session that costs something
//! opens its payment intent and charge (`payments.rs`). The checkout page, the control endpoints and
//! the library call the transition functions here; nothing else changes a session's status.

use serde_json::Value;

use crate::app::{AppState, now};
use crate::endpoint::{Expand, RequestCtx, list_page};
use crate::errors::ApiError;
use crate::form::{Fields, Node, Shape};
use crate::ids;
use crate::objects;
use crate::store::{LineItem, PaymentState, PaymentStatus, Session, SessionStatus, Store};
use crate::{catalog, payments};

/// Stripe's bounds on `expires_at`: 30 minutes to 24 hours after creation.
const MIN_EXPIRY: i64 = 30 * 60;
const MAX_EXPIRY: i64 = 24 * 60 * 60;

const PRODUCT_DATA: Shape =
    Shape::Object(&[("name", Shape::Scalar), ("description", Shape::Scalar), ("metadata", Shape::Dictionary)]);

const PRICE_DATA: Shape = Shape::Object(&[
    ("currency", Shape::Scalar),
    ("unit_amount", Shape::Scalar),
    ("product", Shape::Scalar),
    ("product_data", PRODUCT_DATA),
]);

const LINE_ITEM: Shape =
    Shape::Object(&[("price", Shape::Scalar), ("price_data", PRICE_DATA), ("quantity", Shape::Scalar)]);

/// The parameters of `POST /v1/checkout/sessions` the fake implements.
const SESSION_PARAMS: &[(&str, Shape)] = &[
    ("mode", Shape::Scalar),
    ("line_items", Shape::Array(&LINE_ITEM)),
    ("success_url", Shape::Scalar),
    ("cancel_url", Shape::Scalar),
    ("client_reference_id", Shape::Scalar),
    ("metadata", Shape::Dictionary),
    ("customer_email", Shape::Scalar),
    ("expand", Shape::Array(&Shape::Scalar)),
    ("payment_method_types", Shape::Array(&Shape::Scalar)),
    ("expires_at", Shape::Scalar),
    ("ui_mode", Shape::Scalar),
    ("currency", Shape::Scalar),
];

/// How a session completes: paid at once, or unpaid with an asynchronous payment to settle later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Paid at once (`checkout.session.completed`, paid).
    Paid,
    /// Completed unpaid, the payment to be settled later.
    Unpaid,
}

pub fn create(shared: &AppState, ctx: &RequestCtx, mut params: Fields) -> Result<Value, ApiError> {
    params.check_known(SESSION_PARAMS)?;
    let expand = Expand::read(&mut params, &["line_items"])?;
    let mode = params.required_string("mode")?;
    match mode.as_str() {
        "payment" => {}
        "setup" | "subscription" => {
            return Err(ApiError::InvalidParameter {
                param: "mode".into(),
                message: format!(
                    "stripe-fake supports only mode=payment; mode={mode} is valid for Stripe \
                     but not implemented here."
                ),
            });
        }
        _ => {
            return Err(ApiError::InvalidParameter {
                param: "mode".into(),
                message: "Invalid mode: must be one of payment, setup, or subscription".into(),
            });
        }
    }
    if let Some(ui_mode) = params.optional_string("ui_mode")?
        && ui_mode != "hosted_page"
    {
        return Err(ApiError::InvalidParameter {
            param: "ui_mode".into(),
            message: format!("stripe-fake supports only ui_mode=hosted_page, not {ui_mode}."),
        });
    }
    let success_url = params.required_string("success_url")?;
    check_url(&success_url, "success_url")?;
    let cancel_url = params.optional_string("cancel_url")?;
    if let Some(url) = &cancel_url {
        check_url(url, "cancel_url")?;
    }
    let client_reference_id = params.optional_string("client_reference_id")?;
    let customer_email = params.optional_string("customer_email")?;
    let metadata = params.metadata("metadata")?.unwrap_or_default();
    let payment_method_types = params.string_array("payment_method_types")?.unwrap_or_else(|| vec!["card".into()]);
    let requested_currency = match params.optional_string("currency")? {
        Some(currency) => {
            let mut probe = Fields::root(vec![("currency".into(), Node::Leaf(currency))]);
            Some(catalog::read_currency(&mut probe)?)
        }
        None => None,
    };
    let created = now();
    let expires_at = match params.integer("expires_at")? {
        None => created + MAX_EXPIRY,
        Some(at) if at < created + MIN_EXPIRY || at > created + MAX_EXPIRY => {
            return Err(ApiError::InvalidParameter {
                param: "expires_at".into(),
                message: "The `expires_at` timestamp must be between 30 minutes and 24 hours \
                          after the Checkout Session is created."
                    .into(),
            });
        }
        Some(at) => at,
    };

    let mut store = shared.store();
    let line_items = read_line_items(&mut params, &mut store)?;
    let currency = line_items[0].currency.clone();
    if let Some(requested) = requested_currency
        && requested != currency
    {
        return Err(ApiError::InvalidParameter {
            param: "currency".into(),
            message: "currency must match the currency of the line items.".into(),
        });
    }
    let amount: i64 = line_items.iter().map(|i| i.amount).sum();
    let session = Session {
        id: ids::checkout_session(),
        created,
        expires_at,
        mode,
        status: SessionStatus::Open,
        payment_status: if amount == 0 { PaymentStatus::NoPaymentRequired } else { PaymentStatus::Unpaid },
        line_items,
        currency,
        amount_subtotal: amount,
        amount_total: amount,
        success_url: Some(success_url),
        cancel_url,
        client_reference_id,
        customer_email,
        metadata,
        payment_method_types,
        payment_intent: None,
        async_payment_pending: false,
    };
    let json = objects::checkout_session(&session, &store, &shared.base_url, expand.has("line_items"));
    tracing::info!(id = %session.id, request = %ctx.request_id, amount, "checkout session created");
    store.sessions.push(session);
    Ok(json)
}

fn check_url(url: &str, param: &str) -> Result<(), ApiError> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        _ => Err(ApiError::InvalidParameter { param: param.into(), message: "Not a valid URL".into() }),
    }
}

/// Reads `line_items[N]`, creating the prices (and products) of inline `price_data` in `store`.
fn read_line_items(params: &mut Fields, store: &mut Store) -> Result<Vec<LineItem>, ApiError> {
    let items = params.object_array("line_items")?.unwrap_or_default();
    if items.is_empty() {
        return Err(ApiError::MissingParameter { param: "line_items".into() });
    }
    let mut line_items = Vec::with_capacity(items.len());
    for mut item in items {
        let price_id = item.optional_string("price")?;
        let price_data = item.object("price_data")?;
        let price = match (price_id, price_data) {
            (Some(_), Some(_)) => {
                return Err(ApiError::InvalidParameter {
                    param: item.name("price"),
                    message: "You may only specify one of these parameters: price, price_data.".into(),
                });
            }
            (None, None) => {
                return Err(ApiError::MissingParameter { param: item.name("price") });
            }
            (Some(id), None) => store.price(&id).cloned().ok_or_else(|| ApiError::MissingReference {
                kind: "price",
                id,
                param: item.name("price"),
            })?,
            (None, Some(mut data)) => {
                // Stripe creates an inactive price (and its product) for inline price data.
                let (price, product) = catalog::read_price(&mut data, store, false)?;
                if let Some(product) = product {
                    store.products.push(product);
                }
                store.prices.push(price.clone());
                price
            }
        };
        let quantity =
            item.integer("quantity")?.ok_or_else(|| ApiError::MissingParameter { param: item.name("quantity") })?;
        if quantity < 1 {
            return Err(ApiError::InvalidParameter {
                param: item.name("quantity"),
                message: "This value must be greater than or equal to 1.".into(),
            });
        }
        if let Some(first) = line_items.first().map(|i: &LineItem| i.currency.clone())
            && first != price.currency
        {
            return Err(ApiError::InvalidParameter {
                param: item.name("price"),
                message: "All line items must use the same currency.".into(),
            });
        }
        let description = store.product(&price.product).map(|p| p.name.clone()).unwrap_or_default();
        line_items.push(LineItem {
            id: ids::line_item(),
            price: price.id.clone(),
            quantity,
            description,
            currency: price.currency.clone(),
            amount: price.unit_amount.saturating_mul(quantity),
        });
    }
    Ok(line_items)
}

pub fn retrieve(shared: &AppState, id: &str, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["expand"])?;
    let expand = Expand::read(&mut params, &["line_items", "payment_intent", "payment_intent.latest_charge"])?;
    expire_if_due(shared, id);
    let store = shared.store();
    let session = find(&store, id)?;
    let mut json = objects::checkout_session(session, &store, &shared.base_url, expand.has("line_items"));
    // As Stripe does: `payment_intent.latest_charge` expands the intent too, and its charge.
    let with_charge = expand.has("payment_intent.latest_charge");
    let intent = session.payment_intent.as_deref().and_then(|id| store.payment_intent(id));
    if let Some(intent) = intent.filter(|_| with_charge || expand.has("payment_intent")) {
        json["payment_intent"] = payments::intent_json(&store, &shared.base_url, intent, with_charge);
    }
    Ok(json)
}

pub fn list(shared: &AppState, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&[
        "limit",
        "starting_after",
        "ending_before",
        "status",
        "payment_intent",
        "created",
        "expand",
    ])?;
    let expand = Expand::read(&mut params, &["data.line_items"])?;
    let status = params.optional_string("status")?;
    let payment_intent = params.optional_string("payment_intent")?;
    let created = params.range("created")?.unwrap_or_default();
    expire_due(shared);
    let store = shared.store();
    let items = store
        .sessions
        .iter()
        .rev()
        .filter(|s| status.as_ref().is_none_or(|st| s.status.as_str() == st))
        .filter(|s| payment_intent.is_none() || s.payment_intent == payment_intent)
        .filter(|s| created.contains(s.created))
        .map(|s| (s.id.as_str(), s))
        .collect();
    let expand_line_items = expand.has("data.line_items");
    let render = |s| objects::checkout_session(s, &store, &shared.base_url, expand_line_items);
    list_page("/v1/checkout/sessions", items, render, &mut params)
}

pub fn list_line_items(shared: &AppState, id: &str, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["limit", "starting_after", "ending_before", "expand"])?;
    Expand::read(&mut params, &[])?;
    let store = shared.store();
    let session = find(&store, id)?;
    let items = session.line_items.iter().map(|item| (item.id.as_str(), item)).collect();
    let render = |item| objects::line_item(item, &store);
    list_page(&format!("/v1/checkout/sessions/{id}/line_items"), items, render, &mut params)
}

/// `POST /v1/checkout/sessions/{id}/expire`.
pub fn expire_endpoint(shared: &AppState, ctx: &RequestCtx, id: &str, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["expand"])?;
    let expand = Expand::read(&mut params, &["line_items"])?;
    expire(shared, id, Some(&ctx.request_id))?;
    let store = shared.store();
    let session = find(&store, id)?;
    Ok(objects::checkout_session(session, &store, &shared.base_url, expand.has("line_items")))
}

fn find<'a>(store: &'a Store, id: &str) -> Result<&'a Session, ApiError> {
    store.session(id).ok_or(ApiError::NotFound { kind: "checkout.session", id: id.into() })
}

fn not_open(status: SessionStatus) -> ApiError {
    ApiError::InvalidRequest {
        message: format!("This Checkout Session is {}; only sessions with status `open` can do that.", status.as_str()),
    }
}

/// The session as events carry it (no expanded line items).
fn event_object(shared: &AppState, id: &str) -> Value {
    let store = shared.store();
    let session = store.session(id).expect("session exists");
    objects::checkout_session(session, &store, &shared.base_url, false)
}

/// open → complete. Paid: `payment_status` paid and `checkout.session.completed`. Unpaid: the
/// same event with `payment_status` unpaid, and an asynchronous payment left to settle.
pub fn complete(shared: &AppState, id: &str, outcome: PaymentOutcome) -> Result<(), ApiError> {
    {
        let mut store = shared.store();
        let session = store.session_mut(id).ok_or(ApiError::NotFound { kind: "checkout.session", id: id.into() })?;
        if session.status != SessionStatus::Open {
            return Err(not_open(session.status));
        }
        session.status = SessionStatus::Complete;
        if session.payment_status != PaymentStatus::NoPaymentRequired {
            let state = match outcome {
                PaymentOutcome::Paid => {
                    session.payment_status = PaymentStatus::Paid;
                    PaymentState::Succeeded
                }
                PaymentOutcome::Unpaid => {
                    session.async_payment_pending = true;
                    PaymentState::Processing
                }
            };
            let session = session.clone();
            let intent = payments::open(&mut store, &session, state);
            store.session_mut(id).expect("session exists").payment_intent = Some(intent);
        }
    }
    shared.emit("checkout.session.completed", event_object(shared, id), None);
    Ok(())
}

/// Settles the asynchronous payment of a session completed unpaid: `payment_status` paid and
/// `checkout.session.async_payment_succeeded`, or unchanged and `..._failed`.
pub fn settle_async_payment(shared: &AppState, id: &str, succeeded: bool) -> Result<(), ApiError> {
    {
        let mut store = shared.store();
        let session = store.session_mut(id).ok_or(ApiError::NotFound { kind: "checkout.session", id: id.into() })?;
        if !session.async_payment_pending {
            return Err(ApiError::InvalidRequest {
                message: "This Checkout Session has no asynchronous payment pending: complete it \
                          with outcome unpaid first."
                    .into(),
            });
        }
        session.async_payment_pending = false;
        if succeeded {
            session.payment_status = PaymentStatus::Paid;
        }
        if let Some(intent) = session.payment_intent.clone() {
            payments::settle(&mut store, &intent, succeeded);
        }
    }
    let event_type =
        if succeeded { "checkout.session.async_payment_succeeded" } else { "checkout.session.async_payment_failed" };
    shared.emit(event_type, event_object(shared, id), None);
    Ok(())
}

/// open → expired, with `checkout.session.expired`.
pub fn expire(shared: &AppState, id: &str, request_id: Option<&str>) -> Result<(), ApiError> {
    {
        let mut store = shared.store();
        let session = store.session_mut(id).ok_or(ApiError::NotFound { kind: "checkout.session", id: id.into() })?;
        if session.status != SessionStatus::Open {
            return Err(not_open(session.status));
        }
        session.status = SessionStatus::Expired;
    }
    shared.emit("checkout.session.expired", event_object(shared, id), request_id);
    Ok(())
}

/// Expires the session `id` if it is open and its `expires_at` has passed: what a read of one
/// session needs, without [`expire_due`]'s scan of every session (a read per webhook delivery
/// would otherwise cost time in proportion to every session the double ever made).
pub fn expire_if_due(shared: &AppState, id: &str) {
    let due = shared.store().session(id).is_some_and(|s| s.status == SessionStatus::Open && s.expires_at <= now());
    if due {
        // Another caller may have expired it in between; that is fine.
        let _ = expire(shared, id, None);
    }
}

/// Expires every open session whose `expires_at` has passed.
pub fn expire_due(shared: &AppState) {
    let due: Vec<String> = {
        let store = shared.store();
        let now = now();
        store
            .sessions
            .iter()
            .filter(|s| s.status == SessionStatus::Open && s.expires_at <= now)
            .map(|s| s.id.clone())
            .collect()
    };
    for id in due {
        // Another caller may have expired it in between; that is fine.
        let _ = expire(shared, &id, None);
    }
}
