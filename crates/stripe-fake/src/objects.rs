//! Stripe's object shapes, built with `serde_json` from the store's structs. The field sets and
//! the placeholder values of features the fake does not model follow Stripe's example objects
//! (Stripe's fixtures3.json from stripe/openapi, MIT; the copies used as test data are in
//! `tests/data/fixtures.json`). Every builder here is checked against the SDK's own types in tests.

use serde_json::{Map, Value, json};

use crate::store::{
    Charge, Dispute, LineItem, Metadata, PaymentIntent, PaymentState, Price, Product, Refund, Session, SessionStatus,
    Store,
};

fn metadata_json(metadata: &Metadata) -> Value {
    Value::Object(metadata.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>())
}

pub fn product(product: &Product) -> Value {
    json!({
        "id": product.id,
        "object": "product",
        "active": product.active,
        "created": product.created,
        "default_price": null,
        "description": product.description,
        "images": [],
        "livemode": false,
        "marketing_features": [],
        "metadata": metadata_json(&product.metadata),
        "name": product.name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": null,
        "tax_code": null,
        "type": "service",
        "unit_label": null,
        "updated": product.created,
        "url": null,
    })
}

/// A price; `product` is the product's id unless the caller expanded it.
pub fn price(price: &Price, expanded_product: Option<&Product>) -> Value {
    let product_value = match expanded_product {
        Some(p) => product(p),
        None => json!(price.product),
    };
    json!({
        "id": price.id,
        "object": "price",
        "active": price.active,
        "billing_scheme": "per_unit",
        "created": price.created,
        "currency": price.currency,
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": price.lookup_key,
        "metadata": metadata_json(&price.metadata),
        "nickname": price.nickname,
        "product": product_value,
        "recurring": null,
        "tax_behavior": "unspecified",
        "tiers_mode": null,
        "transform_quantity": null,
        "type": "one_time",
        "unit_amount": price.unit_amount,
        "unit_amount_decimal": price.unit_amount.to_string(),
    })
}

/// A Checkout line item (`object: "item"`), with its full price object as Stripe embeds it.
pub fn line_item(item: &LineItem, store: &Store) -> Value {
    let price_value = store.price(&item.price).map(|p| price(p, None)).unwrap_or(Value::Null);
    json!({
        "id": item.id,
        "object": "item",
        "adjustable_quantity": null,
        "amount_discount": 0,
        "amount_subtotal": item.amount,
        "amount_tax": 0,
        "amount_total": item.amount,
        "currency": item.currency,
        "description": item.description,
        "metadata": {},
        "price": price_value,
        "quantity": item.quantity,
    })
}

/// Stripe's list envelope.
pub fn list(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

/// A Checkout Session. `base_url` is the fake's public URL (for `url` while open);
/// `line_items` is included only when the caller asked for `expand[]=line_items`.
pub fn checkout_session(session: &Session, store: &Store, base_url: &str, expand_line_items: bool) -> Value {
    let url = match session.status {
        SessionStatus::Open => json!(format!("{base_url}pay/{}", session.id)),
        _ => Value::Null,
    };
    // Filled in by the payer at checkout; the fake's payer only has the prefilled email.
    let customer_details = match session.status {
        SessionStatus::Complete => json!({
            "address": null,
            "business_name": null,
            "email": session.customer_email,
            "individual_name": null,
            "name": null,
            "phone": null,
            "tax_exempt": "none",
            "tax_ids": [],
        }),
        _ => Value::Null,
    };
    let mut object = json!({
        "id": session.id,
        "object": "checkout.session",
        "adaptive_pricing": null,
        "after_expiration": null,
        "allow_promotion_codes": null,
        "amount_subtotal": session.amount_subtotal,
        "amount_total": session.amount_total,
        "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
        "billing_address_collection": null,
        "cancel_url": session.cancel_url,
        "client_reference_id": session.client_reference_id,
        "client_secret": null,
        "collected_information": null,
        "consent": null,
        "consent_collection": null,
        "created": session.created,
        "currency": session.currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {
            "after_submit": null,
            "shipping_address": null,
            "submit": null,
            "terms_of_service_acceptance": null,
        },
        "customer": null,
        "customer_account": null,
        "customer_creation": "if_required",
        "customer_details": customer_details,
        "customer_email": session.customer_email,
        "discounts": [],
        "expires_at": session.expires_at,
        "integration_identifier": null,
        "invoice": null,
        "invoice_creation": null,
        "livemode": false,
        "locale": null,
        "managed_payments": null,
        "metadata": metadata_json(&session.metadata),
        "mode": session.mode,
        "origin_context": null,
        "payment_intent": session.payment_intent,
        "payment_link": null,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": null,
        "payment_method_options": {},
        "payment_method_types": session.payment_method_types,
        "payment_status": session.payment_status.as_str(),
        "permissions": null,
        "phone_number_collection": { "enabled": false },
        "recovered_from": null,
        "saved_payment_method_options": null,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_options": [],
        "status": session.status.as_str(),
        "submit_type": null,
        "subscription": null,
        "success_url": session.success_url,
        "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
        "ui_mode": "hosted_page",
        "url": url,
        "wallet_options": null,
    });
    if expand_line_items {
        let data = session.line_items.iter().map(|item| line_item(item, store)).collect();
        let url = format!("/v1/checkout/sessions/{}/line_items", session.id);
        object["line_items"] = list(&url, data, false);
    }
    object
}

/// A PaymentIntent; `latest_charge` is the charge's id unless the caller expanded it.
pub fn payment_intent(intent: &PaymentIntent, expanded_charge: Option<Value>) -> Value {
    let (status, amount_received) = match intent.state {
        PaymentState::Processing => ("processing", 0),
        PaymentState::Succeeded => ("succeeded", intent.amount),
        PaymentState::Failed => ("requires_payment_method", 0),
    };
    json!({
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": amount_received,
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": null,
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic",
        "client_secret": intent.client_secret,
        "confirmation_method": "automatic",
        "created": intent.created,
        "currency": intent.currency,
        "customer": null,
        "customer_account": null,
        "description": null,
        "excluded_payment_method_types": null,
        "last_payment_error": null,
        "latest_charge": expanded_charge.unwrap_or_else(|| json!(intent.latest_charge)),
        "livemode": false,
        "managed_payments": null,
        "metadata": {},
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": null,
        "payment_method_configuration_details": null,
        "payment_method_options": {},
        "payment_method_types": intent.payment_method_types,
        "processing": null,
        "receipt_email": intent.receipt_email,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status,
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// A card charge. `receipt_url` points at the fake's receipt page; `payment_intent` is the id
/// unless expanded; `refunds` (a list object) appears only when the caller expanded it.
pub fn charge(charge: &Charge, base_url: &str, expanded_intent: Option<Value>, refunds: Option<Value>) -> Value {
    let (status, paid) = match charge.state {
        PaymentState::Processing => ("pending", false),
        PaymentState::Succeeded => ("succeeded", true),
        PaymentState::Failed => ("failed", false),
    };
    let (failure_code, failure_message) = match charge.state {
        PaymentState::Failed => (json!("generic_decline"), json!("The payment failed.")),
        _ => (Value::Null, Value::Null),
    };
    let outcome = match charge.state {
        PaymentState::Succeeded => json!({
            "advice_code": null,
            "network_advice_code": null,
            "network_decline_code": null,
            "network_status": "approved_by_network",
            "reason": null,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        }),
        _ => Value::Null,
    };
    let mut object = json!({
        "id": charge.id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": if paid { charge.amount } else { 0 },
        "amount_refunded": charge.amount_refunded,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": null,
        "billing_details": {
            "address": null,
            "email": charge.billing_email,
            "name": null,
            "phone": null,
            "tax_id": null,
        },
        "calculated_statement_descriptor": "STRIPE-FAKE",
        "captured": paid,
        "created": charge.created,
        "currency": charge.currency,
        "customer": null,
        "description": null,
        "disputed": charge.disputed,
        "failure_balance_transaction": null,
        "failure_code": failure_code,
        "failure_message": failure_message,
        "fraud_details": {},
        "livemode": false,
        "metadata": {},
        "on_behalf_of": null,
        "outcome": outcome,
        "paid": paid,
        "payment_intent": expanded_intent.unwrap_or_else(|| json!(charge.payment_intent)),
        "payment_method": null,
        "payment_method_details": {
            "card": {
                "brand": "visa",
                "country": "US",
                "exp_month": 12,
                "exp_year": 2034,
                "funding": "credit",
                "last4": "4242",
                "network": "visa",
            },
            "type": "card",
        },
        "receipt_email": charge.billing_email,
        "receipt_number": null,
        "receipt_url": format!("{base_url}receipts/{}", charge.id),
        "refunded": charge.amount_refunded == charge.amount,
        "review": null,
        "shipping": null,
        "source": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status,
        "transfer_data": null,
        "transfer_group": null,
    });
    if let Some(refunds) = refunds {
        object["refunds"] = refunds;
    }
    object
}

pub fn refund(refund: &Refund) -> Value {
    let mut object = json!({
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": null,
        "charge": refund.charge,
        "created": refund.created,
        "currency": refund.currency,
        "customer": null,
        "customer_account": null,
        "destination_details": {
            "card": { "reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund" },
            "type": "card",
        },
        "metadata": metadata_json(&refund.metadata),
        "payment_intent": refund.payment_intent,
        "payment_method": null,
        "reason": refund.reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": refund.status(),
        "transfer_reversal": null,
    });
    // Stripe shows `failure_reason` only on a refund that failed.
    if let Some(reason) = &refund.failure_reason {
        object["failure_reason"] = json!(reason);
    }
    object
}

/// A dispute; evidence is never submitted in the fake, so every evidence field is empty.
pub fn dispute(dispute: &Dispute) -> Value {
    let evidence_fields = [
        "access_activity_log",
        "billing_address",
        "cancellation_policy",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_communication",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "customer_signature",
        "duplicate_charge_documentation",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "receipt",
        "refund_policy",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "service_documentation",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_documentation",
        "shipping_tracking_number",
        "uncategorized_file",
        "uncategorized_text",
    ];
    let mut evidence: Map<String, Value> = evidence_fields.iter().map(|f| (f.to_string(), Value::Null)).collect();
    evidence.insert("enhanced_evidence".into(), json!({}));
    // Stripe gives about three weeks to respond.
    let due_by = dispute.created + 21 * 24 * 60 * 60;
    json!({
        "id": dispute.id,
        "object": "dispute",
        "amount": dispute.amount,
        "balance_transactions": [],
        "charge": dispute.charge,
        "created": dispute.created,
        "currency": dispute.currency,
        "enhanced_eligibility_types": [],
        "evidence": evidence,
        "evidence_details": {
            "due_by": due_by,
            "enhanced_eligibility": {},
            "has_evidence": false,
            "past_due": false,
            "submission_count": 0,
        },
        "is_charge_refundable": false,
        "livemode": false,
        "metadata": {},
        "network_reason_code": null,
        "payment_intent": dispute.payment_intent,
        "payment_method_details": {
            "card": { "brand": "visa", "case_type": "chargeback", "network": "visa", "network_reason_code": "10.4" },
            "type": "card",
        },
        "reason": dispute.reason,
        "status": dispute.status.as_str(),
    })
}

/// An event envelope around `object`, as delivered to webhook endpoints.
pub fn event(
    id: &str,
    event_type: &str,
    created: i64,
    object: Value,
    pending_webhooks: usize,
    request_id: Option<&str>,
) -> Value {
    json!({
        "id": id,
        "object": "event",
        "api_version": stripe_shared::version::VERSION.as_str(),
        "created": created,
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": pending_webhooks,
        "request": { "id": request_id, "idempotency_key": null },
        "type": event_type,
    })
}
