//! The hosted checkout page that a session's `url` points at (`/pay/{id}`): the line items, the
//! total, and Pay / Cancel buttons as plain HTML forms posting back to the fake. Pay completes
//! the session as paid and redirects (303) to `success_url` with `{CHECKOUT_SESSION_ID}`
//! replaced; Cancel redirects to `cancel_url` and leaves the session open, as Stripe does.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::checkout::{self, PaymentOutcome};
use crate::store::SessionStatus;

pub async fn show(State(shared): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    checkout::expire_if_due(&shared, &id);
    let store = shared.store();
    let Some(session) = store.session(&id) else {
        return (StatusCode::NOT_FOUND, Html(page("Not found", "<p>No such Checkout Session.</p>"))).into_response();
    };
    if session.status != SessionStatus::Open {
        let body = format!("<p>This Checkout Session is {}.</p>", session.status.as_str());
        return Html(page("Checkout", &body)).into_response();
    }
    let mut rows = String::new();
    for item in &session.line_items {
        let unit = store.price(&item.price).map_or(0, |p| p.unit_amount);
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{} × {}</td><td>{}</td></tr>\n",
            escape(&item.description),
            item.quantity,
            money(unit, &item.currency),
            money(item.amount, &item.currency),
        ));
    }
    let cancel = if session.cancel_url.is_some() {
        format!(r#"<form method="post" action="/pay/{id}/cancel"><button type="submit">Cancel</button></form>"#)
    } else {
        String::new()
    };
    let body = format!(
        r#"<table>
<tr><th>Item</th><th>Quantity</th><th>Amount</th></tr>
{rows}<tr><th colspan="2">Total</th><th id="total">{total}</th></tr>
</table>
<form method="post" action="/pay/{id}/pay"><button type="submit">Pay {total}</button></form>
{cancel}"#,
        total = money(session.amount_total, &session.currency),
    );
    Html(page("Checkout (stripe-fake)", &body)).into_response()
}

pub async fn pay(State(shared): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    if let Err(error) = checkout::complete(&shared, &id, PaymentOutcome::Paid) {
        return (StatusCode::BAD_REQUEST, Html(page("Checkout", &escape(&error.to_string())))).into_response();
    }
    let success_url = shared.store().session(&id).and_then(|s| s.success_url.clone());
    match success_url {
        Some(url) => Redirect::to(&url.replace("{CHECKOUT_SESSION_ID}", &id)).into_response(),
        None => Html(page("Checkout", "<p>Paid.</p>")).into_response(),
    }
}

pub async fn cancel(State(shared): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let cancel_url = shared.store().session(&id).map(|s| s.cancel_url.clone());
    match cancel_url {
        Some(Some(url)) => Redirect::to(&url).into_response(),
        Some(None) => Html(page("Checkout", "<p>No cancel URL.</p>")).into_response(),
        None => (StatusCode::NOT_FOUND, Html(page("Not found", "<p>No such Checkout Session.</p>"))).into_response(),
    }
}

pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body><h1>{}</h1>\n{body}\n</body></html>\n",
        escape(title),
        escape(title)
    )
}

/// Minor units as `12.34 USD` (two decimals; zero-decimal currencies are not special-cased).
pub fn money(amount: i64, currency: &str) -> String {
    format!("{}.{:02} {}", amount / 100, (amount % 100).abs(), currency.to_uppercase())
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_escape() {
        assert_eq!(money(1000, "usd"), "10.00 USD");
        assert_eq!(money(5, "eur"), "0.05 EUR");
        assert_eq!(escape("<b>&\""), "&lt;b&gt;&amp;&quot;");
    }
}
