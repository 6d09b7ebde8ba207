//! Checkout Sessions through the real async-stripe client, and the wire protocol's edges
//! (auth, unknown / missing / invalid parameters, unknown ids) through raw HTTP.

use stripe_checkout::checkout_session::{
    CreateCheckoutSessionLineItems, ExpireCheckoutSession, ListLineItemsCheckoutSession, RetrieveCheckoutSession,
};
use stripe_shared::{CheckoutSessionPaymentStatus, CheckoutSessionStatus};

use crate::helpers::*;

#[tokio::test]
async fn create_retrieve_expand_and_list_line_items() {
    let fake = spawn().await;
    let client = client(&fake);

    let session = credits_session().send(&client).await.expect("create");
    assert!(session.id.as_str().starts_with("cs_test_"));
    assert_eq!(session.status, Some(CheckoutSessionStatus::Open));
    assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    assert_eq!(session.amount_subtotal, Some(1000));
    assert_eq!(session.amount_total, Some(1000));
    assert_eq!(session.client_reference_id.as_deref(), Some("org_42"));
    assert_eq!(session.metadata.as_ref().unwrap()["org"], "acme");
    assert!(!session.livemode);
    assert_eq!(session.expires_at - session.created, 24 * 60 * 60);
    let url = session.url.clone().expect("url while open");
    assert_eq!(url, format!("{}pay/{}", fake.base_url(), session.id));
    assert!(session.line_items.is_none(), "line_items only when expanded");

    let retrieved = RetrieveCheckoutSession::new(session.id.clone()).send(&client).await.unwrap();
    assert_eq!(retrieved.id, session.id);
    assert!(retrieved.line_items.is_none());

    let expanded = RetrieveCheckoutSession::new(session.id.clone())
        .expand(vec!["line_items".to_string()])
        .send(&client)
        .await
        .unwrap();
    let items = expanded.line_items.expect("expanded line items");
    assert_eq!(items.data.len(), 1);
    assert!(!items.has_more);
    assert_eq!(items.url, format!("/v1/checkout/sessions/{}/line_items", session.id));
    let item = &items.data[0];
    assert_eq!(item.quantity, Some(2));
    assert_eq!(item.amount_total, 1000);
    assert_eq!(item.description.as_deref(), Some("Credits"));
    let price = item.price.as_ref().expect("price embedded");
    assert_eq!(price.unit_amount, Some(500));

    let listed = ListLineItemsCheckoutSession::new(session.id.clone()).send(&client).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].id, item.id);
}

#[tokio::test]
async fn create_with_a_price_id_and_expire() {
    let fake = spawn().await;
    let client = client(&fake);
    let price = post_form(
        &fake,
        "v1/prices",
        Some(KEY),
        &[("currency", "eur"), ("unit_amount", "250"), ("product_data[name]", "Pack")],
    )
    .await;
    assert_eq!(price.status(), 200);
    let price: serde_json::Value = price.json().await.unwrap();
    assert_eq!(price["object"], "price");
    let price_id = price["id"].as_str().unwrap().to_string();

    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(price_id);
    item.quantity = Some(3);
    let session = credits_session().line_items(vec![item]).send(&client).await.unwrap();
    assert_eq!(session.amount_total, Some(750));
    assert_eq!(session.currency, Some(stripe_types::Currency::EUR));

    let expired = ExpireCheckoutSession::new(session.id.clone()).send(&client).await.unwrap();
    assert_eq!(expired.status, Some(CheckoutSessionStatus::Expired));
    assert!(expired.url.is_none(), "no url once expired");
    // Expiring again is refused: only open sessions expire.
    let again = ExpireCheckoutSession::new(session.id.clone()).send(&client).await;
    assert!(matches!(again, Err(stripe::StripeError::Stripe(_, 400))), "{again:?}");
    let events = fake.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "checkout.session.expired");
}

#[tokio::test]
async fn unknown_session_is_404_resource_missing() {
    let fake = spawn().await;
    let result = RetrieveCheckoutSession::new("cs_test_nope").send(&client(&fake)).await;
    match result {
        Err(stripe::StripeError::Stripe(error, 404)) => {
            assert_eq!(error.code, Some(stripe::ApiErrorsCode::ResourceMissing));
            assert_eq!(error.type_, stripe::ApiErrorsType::InvalidRequestError);
        }
        other => panic!("expected a 404, got {other:?}"),
    }
}

#[tokio::test]
async fn curl_shaped_request_with_basic_auth() {
    let fake = spawn().await;
    let response = reqwest::Client::new()
        .post(format!("{}v1/checkout/sessions", fake.base_url()))
        .basic_auth(KEY, Some(""))
        .form(&credits_form())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let session: serde_json::Value = response.json().await.unwrap();
    assert_eq!(session["object"], "checkout.session");
    assert_eq!(session["status"], "open");
    assert_eq!(session["amount_total"], 1000);
    assert!(session["url"].as_str().unwrap().starts_with(&fake.base_url()));
}

#[tokio::test]
async fn authentication_failures_are_401() {
    let fake = spawn().await;
    let missing = stripe_error(post_form(&fake, "v1/checkout/sessions", None, &credits_form()).await, 401).await;
    assert_eq!(missing["type"], "invalid_request_error");
    assert!(missing["message"].as_str().unwrap().contains("did not provide an API key"));
    let live = stripe_error(
        post_form(&fake, "v1/checkout/sessions", Some("sk_live_123456789012"), &credits_form()).await,
        401,
    )
    .await;
    assert!(live["message"].as_str().unwrap().starts_with("Invalid API Key provided"));

    let strict =
        spawn_with(stripe_fake::FakeConfig { api_key: Some("sk_test_only".into()), ..Default::default() }).await;
    let other = post_form(&strict, "v1/checkout/sessions", Some(KEY), &credits_form()).await;
    assert_eq!(other.status(), 401);
    let only = post_form(&strict, "v1/checkout/sessions", Some("sk_test_only"), &credits_form()).await;
    assert_eq!(only.status(), 200);
}

#[tokio::test]
async fn parameter_errors_name_the_bracketed_parameter() {
    let fake = spawn().await;
    let with = |extra: &[(&'static str, &'static str)], without: &str| {
        let mut form: Vec<_> = credits_form().into_iter().filter(|(k, _)| *k != without).collect();
        form.extend_from_slice(extra);
        form
    };
    // (form, expected code or "" for none, expected param)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (with(&[("bogus", "1")], ""), "parameter_unknown", "bogus"),
        (
            with(&[("line_items[0][price_data][colour]", "red")], ""),
            "parameter_unknown",
            "line_items[0][price_data][colour]",
        ),
        (with(&[], "line_items[0][quantity]"), "parameter_missing", "line_items[0][quantity]"),
        (with(&[], "success_url"), "parameter_missing", "success_url"),
        (
            with(&[("line_items[0][quantity]", "two")], "line_items[0][quantity]"),
            "parameter_invalid_integer",
            "line_items[0][quantity]",
        ),
        (with(&[("success_url", "")], "success_url"), "parameter_invalid_empty", "success_url"),
        (with(&[("line_items[0][price]", "price_missing")], ""), "", "line_items[0][price]"),
    ];
    for (form, code, param) in cases {
        let error = stripe_error(post_form(&fake, "v1/checkout/sessions", Some(KEY), &form).await, 400).await;
        assert_eq!(error["type"], "invalid_request_error", "{error}");
        if !code.is_empty() {
            assert_eq!(error["code"], code, "{error}");
        }
        assert_eq!(error["param"], param, "{error}");
    }
    let missing_items = stripe_error(
        post_form(
            &fake,
            "v1/checkout/sessions",
            Some(KEY),
            &[("mode", "payment"), ("success_url", "https://a.example/")],
        )
        .await,
        400,
    )
    .await;
    assert_eq!(missing_items["code"], "parameter_missing");
    assert_eq!(missing_items["param"], "line_items");
    let unknown_price = stripe_error(
        post_form(
            &fake,
            "v1/checkout/sessions",
            Some(KEY),
            &[
                ("mode", "payment"),
                ("success_url", "https://a.example/"),
                ("line_items[0][price]", "price_nope"),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await,
        400,
    )
    .await;
    assert_eq!(unknown_price["code"], "resource_missing");
    assert_eq!(unknown_price["param"], "line_items[0][price]");
    let setup = stripe_error(
        post_form(&fake, "v1/checkout/sessions", Some(KEY), &with(&[("mode", "setup")], "mode")).await,
        400,
    )
    .await;
    assert_eq!(setup["param"], "mode");
    let route = stripe_error(post_form(&fake, "v1/nothing", Some(KEY), &[]).await, 404).await;
    assert!(route["message"].as_str().unwrap().starts_with("Unrecognized request URL"));
}

#[tokio::test]
async fn prices_and_products() {
    let fake = spawn().await;
    let product = post_form(&fake, "v1/products", Some(KEY), &[("name", "Credits"), ("metadata[tier]", "gold")]).await;
    assert_eq!(product.status(), 200);
    let product: serde_json::Value = product.json().await.unwrap();
    let product_id = product["id"].as_str().unwrap();
    let price = post_form(
        &fake,
        "v1/prices",
        Some(KEY),
        &[("currency", "usd"), ("unit_amount", "100"), ("product", product_id), ("expand[]", "product")],
    )
    .await;
    let price: serde_json::Value = price.json().await.unwrap();
    assert_eq!(price["product"]["id"], product_id, "product expanded");
    // The SDK's Price type parses it (miniserde, as the client does).
    let parsed: stripe_shared::Price = miniserde::json::from_str(&price.to_string()).expect("SDK parses price");
    assert_eq!(parsed.unit_amount, Some(100));

    let http = reqwest::Client::new();
    let get = |path: String| http.get(format!("{}{path}", fake.base_url())).bearer_auth(KEY).send();
    let fetched: serde_json::Value =
        get(format!("v1/prices/{}", price["id"].as_str().unwrap())).await.unwrap().json().await.unwrap();
    assert_eq!(fetched["product"], product_id, "not expanded unless asked");
    let list: serde_json::Value =
        get(format!("v1/prices?product={product_id}&limit=1")).await.unwrap().json().await.unwrap();
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["has_more"], false);
    let missing = get("v1/prices/price_nope".into()).await.unwrap();
    let error = stripe_error(missing, 404).await;
    assert_eq!(error["code"], "resource_missing");
    let product_back: serde_json::Value = get(format!("v1/products/{product_id}")).await.unwrap().json().await.unwrap();
    let parsed: stripe_shared::Product =
        miniserde::json::from_str(&product_back.to_string()).expect("SDK parses product");
    assert_eq!(parsed.name, "Credits");
}

/// Every field of Stripe's example objects is present in ours (values may differ).
#[tokio::test]
async fn objects_carry_every_field_of_stripes_examples() {
    let fixtures: serde_json::Value = serde_json::from_str(include_str!("../data/fixtures.json")).unwrap();
    let fake = spawn().await;
    let created = post_form(&fake, "v1/checkout/sessions", Some(KEY), &credits_form()).await;
    let session: serde_json::Value = created.json().await.unwrap();
    let id = session["id"].as_str().unwrap();
    let http = reqwest::Client::new();
    let items: serde_json::Value = http
        .get(format!("{}v1/checkout/sessions/{id}/line_items", fake.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = &items["data"][0];
    fake.expire_session(id).await.unwrap();
    let event = &fake.events()[0];
    let product: serde_json::Value =
        post_form(&fake, "v1/products", Some(KEY), &[("name", "P")]).await.json().await.unwrap();

    for (kind, ours) in [
        ("checkout.session", &session),
        ("item", item),
        ("price", &item["price"]),
        ("product", &product),
        ("event", event),
    ] {
        let reference = fixtures[kind].as_object().unwrap();
        let ours = ours.as_object().unwrap();
        let missing: Vec<_> = reference.keys().filter(|k| !ours.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{kind} lacks {missing:?}");
        assert_eq!(ours["object"], reference["object"], "{kind}");
    }
}

#[tokio::test]
async fn sessions_list_newest_first_with_created_filters_and_pages() {
    use stripe_checkout::checkout_session::ListCheckoutSession;
    use stripe_types::{RangeBoundsTs, RangeQueryTs};

    let fake = spawn().await;
    let client = client(&fake);
    let oldest = credits_session().send(&client).await.unwrap();
    // A second later, so that `created` tells the first session from the others.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut newer = Vec::new();
    for _ in 0..11 {
        newer.push(credits_session().send(&client).await.unwrap().id);
    }
    assert!(newer_created(&client, &newer[0]).await > oldest.created);

    let first = ListCheckoutSession::new().send(&client).await.unwrap();
    assert_eq!(first.url, "/v1/checkout/sessions");
    assert_eq!(first.data.len(), 10, "limit defaults to 10");
    assert!(first.has_more);
    assert_eq!(first.data[0].id, newer[10], "newest first");
    let next = ListCheckoutSession::new().starting_after(first.data[9].id.as_str()).send(&client).await.unwrap();
    assert_eq!(next.data.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), vec![newer[0].clone(), oldest.id.clone()]);
    assert!(!next.has_more);
    let before = ListCheckoutSession::new().ending_before(oldest.id.as_str()).limit(2).send(&client).await.unwrap();
    assert_eq!(before.data.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), vec![newer[1].clone(), newer[0].clone()]);
    assert!(before.has_more);

    let since = newer_created(&client, &newer[0]).await;
    let recent = ListCheckoutSession::new().created(RangeQueryTs::gte(since)).limit(100).send(&client).await.unwrap();
    assert_eq!(recent.data.len(), 11);
    let old = ListCheckoutSession::new()
        .created(RangeQueryTs::Bounds(RangeBoundsTs {
            lt: Some(since),
            gte: Some(oldest.created),
            ..Default::default()
        }))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(old.data.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), vec![oldest.id.clone()]);
    let exact = ListCheckoutSession::new().created(RangeQueryTs::eq(oldest.created)).send(&client).await.unwrap();
    assert_eq!(exact.data.len(), 1);
    let none = ListCheckoutSession::new().created(RangeQueryTs::lte(oldest.created - 1)).send(&client).await.unwrap();
    assert!(none.data.is_empty() && !none.has_more);

    let http = reqwest::Client::new();
    let get =
        |query: &str| http.get(format!("{}v1/checkout/sessions?{query}", fake.base_url())).bearer_auth(KEY).send();
    assert_eq!(stripe_error(get("limit=101").await.unwrap(), 400).await["param"], "limit");
    assert_eq!(stripe_error(get("limit=0").await.unwrap(), 400).await["param"], "limit");
    let bad_bound = stripe_error(get("created[since]=1").await.unwrap(), 400).await;
    assert_eq!(
        (bad_bound["code"].as_str(), bad_bound["param"].as_str()),
        (Some("parameter_unknown"), Some("created[since]"))
    );
    let bad_value = stripe_error(get("created[gte]=soon").await.unwrap(), 400).await;
    assert_eq!(bad_value["code"], "parameter_invalid_integer");
    assert_eq!(bad_value["param"], "created[gte]");
    // Newest first over raw HTTP too, and the SDK's list type parses the raw body.
    let raw: serde_json::Value = get("limit=3").await.unwrap().json().await.unwrap();
    assert_eq!(raw["object"], "list");
    let parsed: stripe_types::List<stripe_shared::CheckoutSession> =
        miniserde::json::from_str(&raw.to_string()).expect("SDK parses the list");
    assert_eq!(parsed.data.len(), 3);
}

async fn newer_created(client: &stripe::Client, id: &stripe_shared::CheckoutSessionId) -> i64 {
    RetrieveCheckoutSession::new(id.clone()).send(client).await.unwrap().created
}
