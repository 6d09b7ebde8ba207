//! Every error status of `POST /api/v1/org/{org}/credits/checkout`, provoked for real against the
//! running server (each test with its own server, database and Stripe double), and read back
//! through the generated client: the status, the envelope's `code` and its stable `type`.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use credits_client::types::{
    ApiErrorPayload, ApiErrorPayloadType, CheckoutSessionResponse, CreateCheckoutSessionRequest,
};
use credits_client::{Credentials, ResponseValue};
use credits_server::Role;
use stripe_fake::Fault;

use crate::helpers::{Db, TestApp, past_credential_cache_ttl, spawn_app, spawn_app_with};

type CheckoutResult = Result<ResponseValue<CheckoutSessionResponse>, credits_client::Error<ApiErrorPayload>>;

fn request(quantity: u64, success_url: &str) -> CreateCheckoutSessionRequest {
    CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/cancel".into(),
        quantity: NonZeroU64::new(quantity).expect("not zero"),
        success_url: success_url.into(),
    }
}

fn valid_request() -> CreateCheckoutSessionRequest {
    request(2, "https://app.example/ok?session={CHECKOUT_SESSION_ID}")
}

async fn checkout(client: &credits_client::Client, org: &str, body: CreateCheckoutSessionRequest) -> CheckoutResult {
    client.create_checkout_session().org(org).body(body).send().await
}

/// The error response of a call that must have failed with one of the documented statuses.
fn error_of(result: CheckoutResult) -> (u16, ApiErrorPayload) {
    match result {
        Err(credits_client::Error::ErrorResponse(response)) => {
            let status = response.status().as_u16();
            (status, response.into_inner())
        }
        Err(other) => panic!("expected a documented error response, got {other:?}"),
        Ok(ok) => panic!("expected an error, got a session: {:?}", ok.into_inner()),
    }
}

/// Asserts the status, the envelope's `code` (the same status) and `type`; returns the envelope.
fn assert_error(result: CheckoutResult, status: u16, type_: ApiErrorPayloadType) -> ApiErrorPayload {
    let (got, payload) = error_of(result);
    assert_eq!(got, status, "status; envelope: {payload:?}");
    assert_eq!(payload.code, i64::from(status), "envelope code: {payload:?}");
    assert_eq!(payload.type_, type_, "envelope type: {payload:?}");
    assert!(!payload.detail.is_empty(), "a detail is always given: {payload:?}");
    if status != 422 {
        assert!(payload.errors.is_none(), "only a 422 lists items: {payload:?}");
    }
    payload
}

/// A 5xx envelope's detail without the request id it ends with (which it must).
fn detail_of_5xx(payload: &ApiErrorPayload) -> &str {
    let (detail, id) = payload.detail.rsplit_once(" (request id ").expect("a 5xx names its request id");
    let id = id.strip_suffix(')').expect("the request id in parentheses");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "the request id is a UUID: {payload:?}");
    detail
}

fn locs(payload: &ApiErrorPayload) -> Vec<Vec<String>> {
    let items = payload.errors.as_ref().expect("a 422 lists its problems");
    let mut locs: Vec<Vec<String>> = items.iter().map(|i| i.loc.iter().map(ToString::to_string).collect()).collect();
    locs.sort();
    locs
}

/// A raw request with a valid token, for what the typed client cannot send.
async fn raw_post(
    app: &TestApp,
    org: &str,
    token: &str,
    content_type: &str,
    body: &'static str,
) -> (u16, ApiErrorPayload) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/org/{org}/credits/checkout", app.base_url))
        .bearer_auth(token)
        .header("content-type", content_type)
        .header("api-version", "1.0.0")
        .body(body)
        .send()
        .await
        .expect("server answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let payload: ApiErrorPayload = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body is not the envelope ({e}): {text}"));
    (status, payload)
}

async fn malformed_json_is_400_invalid_request(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let (status, payload) = raw_post(&app, &org, &token, "application/json", r#"{"quantity":"#).await;
    assert_eq!(status, 400, "{payload:?}");
    assert_eq!(payload.code, 400);
    assert_eq!(payload.type_, ApiErrorPayloadType::InvalidRequestError);
    assert!(payload.errors.is_none(), "{payload:?}");
    assert!(payload.detail.to_lowercase().contains("json"), "the detail says what is wrong: {payload:?}");
}

/// docs/errors.md: 400 also for a wrong content type.
async fn wrong_content_type_is_400_invalid_request(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let body = r#"{"quantity":1,"success_url":"https://app.example/ok","cancel_url":"https://app.example/c"}"#;
    let (status, payload) = raw_post(&app, &org, &token, "text/plain", body).await;
    assert_eq!(status, 400, "{payload:?}");
    assert_eq!(payload.code, 400);
    assert_eq!(payload.type_, ApiErrorPayloadType::InvalidRequestError);
}

async fn bad_token_is_401(db: Db) {
    let app = spawn_app(db).await;
    let (org, _token) = app.org_with_token(Role::Owner).await;

    let unknown = credits_client::connect(&app.base_url, Credentials::Bearer("nope".into())).unwrap();
    let payload =
        assert_error(checkout(&unknown, &org, valid_request()).await, 401, ApiErrorPayloadType::AuthenticationError);
    assert_eq!(payload.detail, "Authentication failed");

    let anonymous = credits_client::connect_anonymous(&app.base_url, Default::default()).unwrap();
    let payload =
        assert_error(checkout(&anonymous, &org, valid_request()).await, 401, ApiErrorPayloadType::AuthenticationError);
    assert_eq!(payload.detail, "Authentication failed");
}

/// Credentials are checked before the body is read: without a token (or with a malformed
/// `Authorization`), a broken body is still a 401.
async fn missing_token_is_401_before_the_body_is_read(db: Db) {
    let app = spawn_app(db).await;
    let (org, _) = app.org_with_token(Role::Owner).await;
    for authorization in [None, Some("Bearer"), Some("Basic abc"), Some("Bearer ")] {
        let mut request = reqwest::Client::new()
            .post(format!("{}/api/v1/org/{org}/credits/checkout", app.base_url))
            .header("content-type", "application/json")
            .body(r#"{"quantity":"#);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("server answers");
        assert_eq!(response.status().as_u16(), 401, "{authorization:?}");
        let payload: ApiErrorPayload = response.json().await.expect("the envelope");
        assert_eq!(payload.type_, ApiErrorPayloadType::AuthenticationError);
    }
    // The same token in `X-API-Key` is accepted like the bearer one.
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = credits_client::connect(&app.base_url, Credentials::ApiKey(token)).unwrap();
    checkout(&client, &org, valid_request()).await.expect("X-API-Key authenticates");
}

/// Query parameters that break the schema or the rules are 422s located at the parameter.
async fn bad_query_parameters_are_422_at_their_name(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    for (query, loc) in [
        ("limit=abc", vec!["query", "limit"]),
        ("limit=0", vec!["query", "limit"]),
        ("limit=101", vec!["query", "limit"]),
        ("transaction_type=gift", vec!["query", "transaction_type", "0"]),
    ] {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/org/{org}/credits/transactions?{query}", app.base_url))
            .bearer_auth(&token)
            .send()
            .await
            .expect("server answers");
        assert_eq!(response.status().as_u16(), 422, "{query}");
        let payload: ApiErrorPayload = response.json().await.expect("the envelope");
        let errors = payload.errors.expect("errors");
        let got: Vec<String> = errors[0].loc.iter().map(ToString::to_string).collect();
        assert_eq!(got, loc, "{query}");
    }
}

/// A path the API does not have is a 404 in the envelope too, not the router's own body.
async fn unknown_paths_are_404_in_the_envelope(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    for path in ["/nope", "/api/v1/org/x/credits/nope/deeper", "/api/v2"] {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", app.base_url))
            .bearer_auth(&token)
            .send()
            .await
            .expect("server answers");
        assert_eq!(response.status().as_u16(), 404, "{path}");
        let payload: ApiErrorPayload = response.json().await.expect("the envelope");
        assert_eq!(payload.type_, ApiErrorPayloadType::NotFoundError, "{path}");
    }
    // The API's own 404 keeps its detail.
    let client = app.client(&token);
    let Err(credits_client::Error::ErrorResponse(response)) =
        client.get_credit_balance().org(format!("{org}-other")).send().await
    else {
        panic!("expected a 404");
    };
    assert!(response.into_inner().detail.contains("not found"));
}

async fn revoked_token_is_401(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    checkout(&client, &org, valid_request()).await.expect("the token works before it is revoked");

    assert!(app.store.revoke_token(&token).await.unwrap(), "the token was revoked");
    past_credential_cache_ttl().await;
    let payload =
        assert_error(checkout(&client, &org, valid_request()).await, 401, ApiErrorPayloadType::AuthenticationError);
    assert_eq!(payload.detail, "Authentication failed");
}

async fn member_role_is_403(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    let payload = assert_error(
        checkout(&app.client(&token), &org, valid_request()).await,
        403,
        ApiErrorPayloadType::PermissionError,
    );
    assert!(payload.detail.contains("owners and admins"), "{payload:?}");
    assert!(app.fake.events().is_empty(), "no Stripe session was created: {:?}", app.fake.events());
}

async fn foreign_and_unknown_orgs_are_the_same_404(db: Db) {
    let app = spawn_app(db).await;
    let (_own_org, token) = app.org_with_token(Role::Owner).await;
    // Another user's org: it exists, but the caller is not a member.
    let (foreign_org, _other_token) = app.org_with_token(Role::Admin).await;
    let missing_org = "org-does-not-exist";
    let client = app.client(&token);

    let foreign =
        assert_error(checkout(&client, &foreign_org, valid_request()).await, 404, ApiErrorPayloadType::NotFoundError);
    let missing =
        assert_error(checkout(&client, missing_org, valid_request()).await, 404, ApiErrorPayloadType::NotFoundError);
    // The two are not told apart: the same detail but for the slug the caller sent.
    assert_eq!(foreign.detail.replace(&foreign_org, "ORG"), missing.detail.replace(missing_org, "ORG"));
    assert!(foreign.detail.contains(&foreign_org), "{foreign:?}");
}

async fn idempotency_key_with_another_body_is_409(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let send = |body| client.create_checkout_session().org(&org).idempotency_key("key-409").body(body).send();

    let first = send(request(2, "https://app.example/ok")).await.expect("first use of the key").into_inner();
    let payload =
        assert_error(send(request(3, "https://app.example/ok")).await, 409, ApiErrorPayloadType::ConflictError);
    assert!(payload.detail.contains("Idempotency-Key"), "{payload:?}");
    // The original body still replays the original answer.
    let replay = send(request(2, "https://app.example/ok")).await.expect("replay").into_inner();
    assert_eq!(replay, first);
}

async fn every_rule_broken_is_one_422_item(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let payload = assert_error(
        checkout(&app.client(&token), &org, request(11, "not a url")).await,
        422,
        ApiErrorPayloadType::ValidationError,
    );
    assert_eq!(locs(&payload), vec![vec!["body", "quantity"], vec!["body", "success_url"]], "{payload:?}");
    assert!(app.fake.events().is_empty(), "nothing reached Stripe: {:?}", app.fake.events());
}

async fn schema_violation_is_422_at_its_location(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    // Well-formed JSON without the required `success_url`.
    let (status, payload) =
        raw_post(&app, &org, &token, "application/json", r#"{"quantity":1,"cancel_url":"https://app.example/c"}"#)
            .await;
    assert_eq!(status, 422, "{payload:?}");
    assert_eq!(payload.code, 422);
    assert_eq!(payload.type_, ApiErrorPayloadType::ValidationError);
    assert_eq!(locs(&payload), vec![vec!["body", "success_url"]], "{payload:?}");

    // Every problem of a body that breaks the schema, at once: two missing fields, one of the
    // wrong type, one out of range.
    let (status, payload) = raw_post(&app, &org, &token, "application/json", r#"{"quantity":0,"success_url":5}"#).await;
    assert_eq!(status, 422, "{payload:?}");
    let mut found = locs(&payload);
    found.sort();
    assert_eq!(
        found,
        vec![vec!["body", "cancel_url"], vec!["body", "quantity"], vec!["body", "success_url"]],
        "{payload:?}"
    );
    let kinds: Vec<String> = payload.errors.iter().flatten().map(|e| e.type_.clone()).collect();
    assert!(kinds.contains(&"missing".to_string()) && kinds.contains(&"range".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"type_error".to_string()), "{kinds:?}");
}

async fn old_client_version_is_426(db: Db) {
    let app = spawn_app_with(db, |c| c.min_client_version = Some(dropshot::semver::Version::new(2, 0, 0))).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let payload = assert_error(
        checkout(&app.client(&token), &org, valid_request()).await,
        426,
        ApiErrorPayloadType::UpgradeRequiredError,
    );
    assert!(payload.detail.contains("1.0.0") && payload.detail.contains("2.0.0"), "{payload:?}");
}

async fn second_request_in_a_minute_is_429(db: Db) {
    let app = spawn_app_with(db, |c| c.rate_limit_per_minute = 1).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    checkout(&client, &org, valid_request()).await.expect("the first request is allowed");
    let payload =
        assert_error(checkout(&client, &org, valid_request()).await, 429, ApiErrorPayloadType::RateLimitError);
    assert!(payload.detail.contains("retry after"), "{payload:?}");
}

/// docs/errors.md: a 429 carries a `Retry-After` header giving the seconds to wait.
async fn a_429_says_when_to_retry(db: Db) {
    let app = spawn_app_with(db, |c| c.rate_limit_per_minute = 1).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    checkout(&client, &org, valid_request()).await.expect("the first request is allowed");
    let Err(credits_client::Error::ErrorResponse(response)) = checkout(&client, &org, valid_request()).await else {
        panic!("expected a 429");
    };
    assert_eq!(response.status().as_u16(), 429);
    let retry_after = response.headers().get("retry-after").expect("a Retry-After header");
    let seconds: u64 = retry_after.to_str().unwrap().parse().expect("delay-seconds");
    assert!((1..=60).contains(&seconds), "{seconds}");
    let payload = response.into_inner();
    assert_eq!(payload.type_, ApiErrorPayloadType::RateLimitError);
    assert!(payload.detail.contains(&format!("retry after {seconds} s")), "{payload:?}");

    // Counted under the credentials the server uses: decoy `Authorization` values beside the
    // real `X-API-Key` do not open a fresh quota each time.
    let (org, token) = app.org_with_token(Role::Owner).await;
    let mut statuses = Vec::new();
    for decoy in ["Basic a", "Basic b", "Basic c"] {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/org/{org}/credits", app.base_url))
            .header("authorization", decoy)
            .header("x-api-key", &token)
            .send()
            .await
            .expect("server answers");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 429, 429]);
}

async fn broken_database_is_a_generic_500(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    // The sessions table disappears under the running server: authentication and membership
    // still work, Stripe answers, and recording the session fails.
    let pool = sqlx::AnyPool::connect(&app.database_url).await.expect("a second connection to the database");
    sqlx::query(match db {
        // PostgreSQL refuses to drop a table others reference, unless told to cut the references.
        Db::Postgres => "DROP TABLE checkout_sessions CASCADE",
        Db::Sqlite => "DROP TABLE checkout_sessions",
    })
    .execute(&pool)
    .await
    .expect("drop the table");
    pool.close().await;

    let payload = assert_error(
        checkout(&app.client(&token), &org, valid_request()).await,
        500,
        ApiErrorPayloadType::InternalServerError,
    );
    assert_eq!(detail_of_5xx(&payload), "Internal server error");
    let body = serde_json::to_string(&payload).unwrap().to_lowercase();
    for leak in ["checkout_sessions", "no such table", "sqlite", "database", "sqlx", "error returned"] {
        assert!(!body.contains(leak), "the 500 leaks {leak:?}: {body}");
    }
}

async fn stripe_declining_is_502_and_the_key_can_be_retried(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let send = || client.create_checkout_session().org(&org).idempotency_key("key-502").body(valid_request()).send();

    app.fake.inject_fault(
        Fault::StripeError {
            status: 402,
            error_type: "card_error".into(),
            code: Some("card_declined".into()),
            message: "Your card was declined (secret detail).".into(),
        },
        1,
    );
    let payload = assert_error(send().await, 502, ApiErrorPayloadType::BadGatewayError);
    assert!(!payload.detail.contains("secret detail") && !payload.detail.contains("card_declined"), "{payload:?}");

    // The failure released the key: the same request with the same key now goes through.
    send().await.expect("a retry with the same key after a 502");
}

async fn stripe_failing_is_502_and_not_repeated(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    // Stripe keeps a 5xx under the idempotency key and replays it, so the adapter does not
    // repeat the call: the 502 comes at once.
    app.fake.inject_fault(Fault::ServerError, 1);
    let payload =
        assert_error(checkout(&client, &org, valid_request()).await, 502, ApiErrorPayloadType::BadGatewayError);
    assert_eq!(detail_of_5xx(&payload), "The payment provider answered with an error");
    checkout(&client, &org, valid_request()).await.expect("the next request goes through");
}

async fn an_unreachable_stripe_is_retried_then_502(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    // A dropped connection saved nothing at Stripe: the adapter tries again with the same key.
    app.fake.inject_fault(Fault::DropConnection, 1);
    checkout(&client, &org, valid_request()).await.expect("one dropped connection is absorbed");

    app.fake.inject_fault(Fault::DropConnection, 20);
    let payload =
        assert_error(checkout(&client, &org, valid_request()).await, 502, ApiErrorPayloadType::BadGatewayError);
    assert_eq!(detail_of_5xx(&payload), "The payment provider could not be reached");
}

/// A purchase whose Stripe call timed out may have created a session: retried with the same
/// Idempotency-Key, it reaches that session instead of creating a second one.
async fn a_timed_out_purchase_retried_with_its_key_reaches_the_same_session(db: Db) {
    let app = spawn_app_with(db, |c| c.stripe.deadline = Duration::from_millis(300)).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let send = || client.create_checkout_session().org(&org).idempotency_key("retry-me").body(valid_request()).send();
    app.fake.inject_fault(Fault::Hang { ms: 800 }, 1);
    assert_error(send().await, 504, ApiErrorPayloadType::GatewayTimeoutError);

    // The double finishes the slow request: the session exists at Stripe, unknown to the server.
    crate::helpers::eventually(Duration::from_secs(5), || async { app.stripe_sessions().await.len() == 1 }).await;
    let retried = send().await.expect("the retry succeeds").into_inner();
    assert_eq!(app.stripe_sessions().await, vec![retried.session_id.clone()], "no second session at Stripe");
}

async fn stripe_not_answering_in_time_is_504(db: Db) {
    let app = spawn_app_with(db, |c| c.stripe.deadline = Duration::from_millis(500)).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    app.fake.inject_fault(Fault::Hang { ms: 3000 }, 1);
    let started = Instant::now();
    let payload = assert_error(
        checkout(&app.client(&token), &org, valid_request()).await,
        504,
        ApiErrorPayloadType::GatewayTimeoutError,
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(2500), "answered at the deadline, not when Stripe did: {elapsed:?}");
    assert!(payload.detail.contains("did not answer in time"), "{payload:?}");
}

crate::on_both_databases!(
    malformed_json_is_400_invalid_request,
    wrong_content_type_is_400_invalid_request,
    bad_token_is_401,
    revoked_token_is_401,
    unknown_paths_are_404_in_the_envelope,
    bad_query_parameters_are_422_at_their_name,
    missing_token_is_401_before_the_body_is_read,
    member_role_is_403,
    foreign_and_unknown_orgs_are_the_same_404,
    idempotency_key_with_another_body_is_409,
    every_rule_broken_is_one_422_item,
    schema_violation_is_422_at_its_location,
    old_client_version_is_426,
    second_request_in_a_minute_is_429,
    a_429_says_when_to_retry,
    broken_database_is_a_generic_500,
    stripe_declining_is_502_and_the_key_can_be_retried,
    stripe_failing_is_502_and_not_repeated,
    an_unreachable_stripe_is_retried_then_502,
    a_timed_out_purchase_retried_with_its_key_reaches_the_same_session,
    stripe_not_answering_in_time_is_504,
);
