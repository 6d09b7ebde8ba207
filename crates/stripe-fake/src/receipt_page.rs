//! The receipt page a charge's `receipt_url` points at (`/receipts/{charge id}`): what was paid,
//! what was refunded, and whether the charge is disputed. Plain HTML, for people and for tests
//! that follow the link a server shows its users.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::app::AppState;
use crate::checkout_page::{escape, money, page};

pub async fn show(State(shared): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let store = shared.store();
    let Some(charge) = store.charge(&id) else {
        return (StatusCode::NOT_FOUND, Html(page("Not found", "<p>No such receipt.</p>"))).into_response();
    };
    let mut rows =
        format!("<tr><th>Amount paid</th><td id=\"amount\">{}</td></tr>\n", money(charge.amount, &charge.currency));
    if charge.amount_refunded > 0 {
        rows.push_str(&format!(
            "<tr><th>Refunded</th><td id=\"refunded\">{}</td></tr>\n",
            money(charge.amount_refunded, &charge.currency)
        ));
    }
    if charge.disputed {
        rows.push_str("<tr><th>Disputed</th><td id=\"disputed\">yes</td></tr>\n");
    }
    let body = format!("<p>Receipt for {}</p>\n<table>\n{rows}</table>", escape(&charge.id));
    Html(page("Receipt (stripe-fake)", &body)).into_response()
}
