//! The edge under hostile traffic: each test sends one kind of abuse (slow headers, slow bodies,
//! idle connections, floods of connections or requests, made-up tokens, oversize bodies, HTTP/2,
//! direct requests to dropshot's port) and checks how it is refused, and that a normal client is
//! still served meanwhile. The edge does not touch the database, so these run on SQLite only.

use std::time::{Duration, Instant};

use bytes::Bytes;
use credits_server::Role;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use stripe_fake::Fault;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Db, TestApp, spawn_app_with};

/// Whether a normal client is served: its balance read answers 200.
async fn served(app: &TestApp, org: &str, token: &str) -> bool {
    app.client(token).get_credit_balance().org(org).send().await.is_ok()
}

/// Everything the server sends on `stream` until it closes it, waiting at most `limit`;
/// `None` when the connection is still open after `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let outcome = tokio::time::timeout(limit, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    outcome.ok().map(|()| received)
}

fn host(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_string()
}

/// A raw HTTP/1.1 request through reqwest, for what the generated client cannot send.
async fn raw(app: &TestApp, method: reqwest::Method, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", app.base_url));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the edge answers")
}

fn order() -> credits_client::types::CreateCheckoutSessionRequest {
    credits_client::types::CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/no".into(),
        quantity: std::num::NonZeroU64::new(1).expect("not zero"),
        success_url: "https://app.example/ok".into(),
    }
}

async fn envelope_of(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("an envelope")
}

#[tokio::test]
async fn slow_headers_are_dropped_without_an_answer_and_others_are_served() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.edge.header_read_timeout = Duration::from_secs(1);
        c.edge.max_connections = 400;
    })
    .await;
    let (org, token) = app.org_with_token(Role::Member).await;
    // Slowloris: 300 connections, each with a request whose headers never end.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.expect("writes");
        slow.push(stream);
    }
    assert!(served(&app, &org, &token).await, "a normal client is served while 300 connections dawdle");
    let started = Instant::now();
    for stream in &mut slow {
        let received = read_until_closed(stream, Duration::from_secs(5)).await.expect("closed by the server");
        assert!(received.is_empty(), "no answer for a slow client: {:?}", String::from_utf8_lossy(&received));
    }
    assert!(started.elapsed() < Duration::from_secs(5), "closed after the header deadline");
    assert!(served(&app, &org, &token).await);
}

#[tokio::test]
async fn connections_that_never_finish_the_first_bytes_are_dropped_too() {
    let app = spawn_app_with(Db::Sqlite, |c| c.edge.header_read_timeout = Duration::from_secs(1)).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    // Fewer bytes than the server needs to tell HTTP/1.1 from HTTP/2, or none at all.
    let mut slow = Vec::new();
    for n in 0..50 {
        let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
        if n % 2 == 0 {
            stream.write_all(b"GET / HTT").await.expect("writes");
        }
        slow.push(stream);
    }
    assert!(served(&app, &org, &token).await);
    for stream in &mut slow {
        let received = read_until_closed(stream, Duration::from_secs(4)).await.expect("closed by the server");
        assert!(received.is_empty(), "no answer: {:?}", String::from_utf8_lossy(&received));
    }
}

#[tokio::test]
async fn a_slow_body_is_dropped_without_an_answer() {
    let app = spawn_app_with(Db::Sqlite, |c| c.edge.body_read_timeout = Duration::from_secs(1)).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
    let head = format!(
        "POST /api/v1/org/{org}/credits/checkout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"quantity\": "
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    let received = read_until_closed(&mut stream, Duration::from_secs(5)).await.expect("closed by the server");
    assert!(received.is_empty(), "no answer: {:?}", String::from_utf8_lossy(&received));
    assert!(served(&app, &org, &token).await);
}

#[tokio::test]
async fn an_idle_connection_is_closed() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.edge.idle_timeout = Duration::from_secs(1);
        c.edge.header_read_timeout = Duration::from_secs(30);
    })
    .await;
    let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("writes");
    // The answer comes, then the connection sits idle until the server closes it.
    let received = read_until_closed(&mut stream, Duration::from_secs(5)).await.expect("closed when idle");
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&received));
}

/// An HTTP/2 client that has gone quiet is probed: the edge sends it a PING at half the idle
/// deadline, before that deadline closes the connection. (A peer that vanished can leave its TCP
/// connection looking open for many minutes; an unanswered PING closes it, even with a request
/// in progress, which the idle deadline would wait for.)
#[tokio::test]
async fn a_quiet_http2_connection_is_pinged_before_its_idle_deadline() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.edge.idle_timeout = Duration::from_secs(2);
        c.edge.header_read_timeout = Duration::from_secs(30);
    })
    .await;
    let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
    // The client's preface and an empty SETTINGS frame, then silence.
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").await.expect("writes");
    let opened = Instant::now();
    let mut received = Vec::new();
    // Frames as they come: a 9-byte head (24-bit length, type, flags, stream), then the payload.
    let first = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = [0u8; 4096];
        loop {
            while received.len() >= 9 {
                let length = u32::from_be_bytes([0, received[0], received[1], received[2]]) as usize;
                if received.len() < 9 + length {
                    break;
                }
                let (frame_type, flags) = (received[3], received[4]);
                received.drain(..9 + length);
                // PING (6) without ACK, or GOAWAY (7): whichever the edge sends first.
                if (frame_type == 6 && flags & 1 == 0) || frame_type == 7 {
                    return Some(frame_type);
                }
            }
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .expect("the edge sends something within 5 s");
    assert_eq!(first, Some(6), "a PING comes before the connection is closed (GOAWAY is 7)");
    assert!(opened.elapsed() < Duration::from_secs(2), "pinged after {:?}", opened.elapsed());
}

#[tokio::test]
async fn connections_over_the_cap_get_429_until_others_close() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.edge.max_connections = 20;
        // Long enough for the refused request to be made while the held connections still
        // count on a loaded machine (several test processes at once).
        c.edge.header_read_timeout = Duration::from_secs(3);
    })
    .await;
    let (org, token) = app.org_with_token(Role::Member).await;
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
        stream.write_all(b"GET /healthz HTTP/1.1\r\n").await.expect("writes");
        held.push(stream);
    }
    let refused = raw(&app, reqwest::Method::GET, &format!("/api/v1/org/{org}/credits"), &[]).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(envelope_of(refused).await["type"], "rate_limit_error");
    // The held connections miss their header deadline; their places free up.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert!(served(&app, &org, &token).await);
}

#[tokio::test]
async fn requests_over_the_in_flight_cap_get_429() {
    let app = spawn_app_with(Db::Sqlite, |c| c.edge.max_in_flight = 1).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    app.fake.inject_fault(Fault::Hang { ms: 1500 }, 1);
    let client = app.client(&token);
    let slow = {
        let (client, org) = (client.clone(), org.clone());
        tokio::spawn(async move { client.create_checkout_session().org(&org).body(order()).send().await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refused = raw(&app, reqwest::Method::GET, "/healthz", &[]).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(slow.await.expect("the checkout task").is_ok(), "the request in progress is answered");
    assert!(served(&app, &org, &token).await, "served once the slow request is done");
}

#[tokio::test]
async fn an_oversize_body_is_400_in_the_envelope() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let path = format!("{}/api/v1/org/{org}/credits/checkout", app.base_url);
    let big = vec![b' '; 100 * 1024];
    let announced = reqwest::Client::new().post(&path).bearer_auth(&token).body(big.clone()).send().await.unwrap();
    assert_eq!(announced.status(), 400);
    let envelope = envelope_of(announced).await;
    assert_eq!(envelope["type"], "invalid_request_error");
    assert!(envelope["detail"].as_str().unwrap().contains("larger than"), "{envelope}");
    // Sent chunked, no length announced: refused once the limit is crossed.
    let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
    let head = format!(
        "POST /api/v1/org/{org}/credits/checkout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in big.chunks(8192) {
        let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await;
        let _ = stream.write_all(chunk).await;
        let _ = stream.write_all(b"\r\n").await;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let received = read_until_closed(&mut stream, Duration::from_secs(5)).await.expect("answered and closed");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("larger than"), "{text}");
    assert!(served(&app, &org, &token).await);
}

/// The announced `Content-Length` decides before any of the body is read: one byte over the
/// limit is refused at once (the client need not send the rest), exactly the limit is served.
#[tokio::test]
async fn an_announced_length_is_refused_over_the_limit_before_the_body_comes() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let head = |length: usize| {
        format!(
            "POST /api/v1/org/{org}/credits/checkout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        )
    };
    // The documented limit (README, docs/errors.md): 64 KiB.
    let limit = 64 * 1024;
    let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
    stream.write_all(head(limit + 1).as_bytes()).await.unwrap();
    // No body is sent: the answer must not wait for it (the body deadline is 10 s).
    let received = read_until_closed(&mut stream, Duration::from_secs(3)).await.expect("answered at once");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 400") && text.contains("larger than"), "{text}");
    // A valid order padded with spaces to exactly the limit.
    let order = r#"{"quantity":1,"success_url":"https://app.example/ok","cancel_url":"https://app.example/no"}"#;
    let body = format!("{order}{}", " ".repeat(limit - order.len()));
    let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
    stream.write_all(head(limit).as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let received = read_until_closed(&mut stream, Duration::from_secs(10)).await.expect("answered");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

/// A body that breaks HTTP's framing (a chunk size that is not hexadecimal) is not a body over
/// the limit: the connection is closed without an answer, and nothing reaches the API.
#[tokio::test]
async fn a_body_that_breaks_the_framing_is_dropped_unanswered() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let mut stream = TcpStream::connect(host(&app)).await.expect("connects");
    let request = format!(
        "POST /api/v1/org/{org}/credits/checkout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let received = read_until_closed(&mut stream, Duration::from_secs(5)).await.expect("closed by the server");
    assert!(received.is_empty(), "no answer: {:?}", String::from_utf8_lossy(&received));
    assert!(served(&app, &org, &token).await);
}

#[tokio::test]
async fn a_deadline_missed_upstream_is_504_with_the_request_id() {
    let app = spawn_app_with(Db::Sqlite, |c| c.edge.request_timeout = Duration::from_secs(1)).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    app.fake.inject_fault(Fault::Hang { ms: 2500 }, 1);
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/org/{org}/credits/checkout", app.base_url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"quantity": 1, "success_url": "https://app.example/ok", "cancel_url": "https://app.example/no"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    let id = response.headers()["x-request-id"].to_str().unwrap().to_string();
    let envelope = envelope_of(response).await;
    assert_eq!(envelope["type"], "gateway_timeout_error");
    assert!(envelope["detail"].as_str().unwrap().contains(&id), "{envelope}");
    assert!(served(&app, &org, &token).await);
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let mut ids = Vec::new();
    for path in ["/healthz", "/no/such/path", "/openapi.json"] {
        let response = raw(&app, reqwest::Method::GET, path, &[("x-request-id", "chosen-by-client")]).await;
        let id = response.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "the server's own id, not the client's: {id}");
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "one id per request");
}

/// A client speaking HTTP/2 without upgrade (`curl --http2-prior-knowledge`).
fn h2_client() -> Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).http2_only(true).build_http()
}

async fn h2_request(app: &TestApp, method: &str, path: &str, token: &str, body: &str) -> (u16, serde_json::Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", app.base_url))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = h2_client().request(request).await.expect("an HTTP/2 answer");
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert!(response.headers().contains_key("x-request-id"));
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn http2_with_prior_knowledge_gets_the_answers_of_http1() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let balance = format!("/api/v1/org/{org}/credits");
    let (status, body) = h2_request(&app, "GET", &balance, &token, "").await;
    let http1 = raw(&app, reqwest::Method::GET, &balance, &[("authorization", &format!("Bearer {token}"))]).await;
    assert_eq!((status, body), (200, http1.json::<serde_json::Value>().await.unwrap()));

    let order = r#"{"quantity": 2, "success_url": "https://app.example/ok", "cancel_url": "https://app.example/no"}"#;
    let (status, body) = h2_request(&app, "POST", &format!("/api/v1/org/{org}/credits/checkout"), &token, order).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["checkout_url"].is_string());

    let (status, body) = h2_request(&app, "POST", &format!("/api/v1/org/{org}/credits/checkout"), &token, "{").await;
    assert_eq!((status, body["type"].as_str()), (400, Some("invalid_request_error")));
    let (status, body) = h2_request(&app, "GET", "/no/such/path", &token, "").await;
    assert_eq!((status, body["type"].as_str()), (404, Some("not_found_error")));
}

#[tokio::test]
async fn dropshot_refuses_requests_that_bypass_the_edge() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    let inner = app.inner_addr();
    assert!(inner.ip().is_loopback());
    for forged in [None, Some("guessed")] {
        let mut request =
            reqwest::Client::new().get(format!("http://{inner}/api/v1/org/{org}/credits")).bearer_auth(&token);
        if let Some(secret) = forged {
            request = request.header("x-credits-edge", secret);
        }
        let response = request.send().await.expect("dropshot answers");
        assert_eq!(response.status(), 403, "forged secret: {forged:?}");
    }
    // The same header sent to the edge is replaced by the real one, not passed along.
    let through_edge = raw(
        &app,
        reqwest::Method::GET,
        &format!("/api/v1/org/{org}/credits"),
        &[("authorization", &format!("Bearer {token}")), ("x-credits-edge", "guessed")],
    )
    .await;
    assert_eq!(through_edge.status(), 200);
}

#[tokio::test]
async fn requests_without_a_token_are_limited_per_address_but_not_the_webhook() {
    let app = spawn_app_with(Db::Sqlite, |c| c.edge.rate_limit_per_address_per_minute = 3).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    for _ in 0..3 {
        assert_eq!(raw(&app, reqwest::Method::GET, "/openapi.json", &[]).await.status(), 200);
    }
    let limited = raw(&app, reqwest::Method::GET, "/openapi.json", &[]).await;
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(envelope_of(limited).await["type"], "rate_limit_error");
    // Stripe's deliveries come without a token and are never limited per address.
    for _ in 0..5 {
        let webhook =
            raw(&app, reqwest::Method::POST, "/api/v1/webhooks/stripe", &[("stripe-signature", "t=1,v1=00")]).await;
        assert_eq!(webhook.status(), 400, "refused for its signature, not limited");
    }
    assert!(served(&app, &org, &token).await, "a client with a token is counted by its token");
}

/// Only a token that fails authentication counts toward blocking its address: requests that
/// carry none (a browser before signing in, a health probe) are limited per address, but their
/// 401s do not block the address's own working tokens.
#[tokio::test]
async fn requests_without_a_token_do_not_block_the_address() {
    let app = spawn_app_with(Db::Sqlite, |c| c.edge.rate_limit_per_address_per_minute = 3).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    for _ in 0..2 {
        let response = raw(&app, reqwest::Method::GET, &format!("/api/v1/org/{org}/credits"), &[]).await;
        assert_eq!(response.status(), 401);
    }
    assert!(served(&app, &org, &token).await, "the address's working token is still served");
}

#[tokio::test]
async fn made_up_tokens_block_their_address_only() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.edge.rate_limit_per_address_per_minute = 3;
        c.edge.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let (org, token) = app.org_with_token(Role::Member).await;
    let balance = format!("/api/v1/org/{org}/credits");
    let attacker = [("x-forwarded-for", "203.0.113.9")];
    let mut statuses = Vec::new();
    for n in 0..6 {
        let made_up = format!("Bearer cr_made_up_{n}");
        let headers = [attacker[0], ("authorization", made_up.as_str())];
        statuses.push(raw(&app, reqwest::Method::GET, &balance, &headers).await.status().as_u16());
    }
    // Three failures use up the address's quota; the fourth failure blocks it.
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    // Even a valid token from the blocked address waits; a client elsewhere is served.
    let authorization = format!("Bearer {token}");
    let blocked = raw(&app, reqwest::Method::GET, &balance, &[attacker[0], ("authorization", &authorization)]).await;
    assert_eq!(blocked.status(), 429);
    let elsewhere = raw(
        &app,
        reqwest::Method::GET,
        &balance,
        &[("x-forwarded-for", "198.51.100.4"), ("authorization", &authorization)],
    )
    .await;
    assert_eq!(elsewhere.status(), 200);
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_from_untrusted_peers() {
    let app = spawn_app_with(Db::Sqlite, |c| c.edge.rate_limit_per_address_per_minute = 2).await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        // A client inventing a new address each time is still counted by its own.
        let forwarded = format!("198.51.100.{n}");
        statuses.push(
            raw(&app, reqwest::Method::GET, "/healthz", &[("x-forwarded-for", &forwarded)]).await.status().as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 429, 429]);
}

/// A web app on an allowed origin (`https://app.example` in the tests) may call the API from a
/// browser: its preflight is answered with what it may send, and the answers carry
/// `Access-Control-Allow-Origin` for it. Another origin gets no CORS header on either.
#[tokio::test]
async fn browsers_on_an_allowed_origin_may_call_and_others_may_not() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/org/{org}/credits/checkout", app.base_url);
    for (origin, allowed) in [("https://app.example", true), ("https://evil.example", false)] {
        let preflight = http
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type, idempotency-key")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status().as_u16(), 204, "{origin}");
        let headers = preflight.headers();
        assert_eq!(headers.get("access-control-allow-origin").is_some(), allowed, "{origin}: {headers:?}");
        if allowed {
            assert_eq!(headers["access-control-allow-origin"], origin);
            let may_send = headers["access-control-allow-headers"].to_str().unwrap();
            assert!(may_send.contains("authorization") && may_send.contains("idempotency-key"), "{may_send}");
            assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));
        }
        let read = http
            .get(format!("{}/api/v1/org/{org}/credits", app.base_url))
            .bearer_auth(&token)
            .header("api-version", "1.0.0")
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status().as_u16(), 200);
        let headers = read.headers();
        assert_eq!(headers.get("access-control-allow-origin").is_some(), allowed, "{origin}: {headers:?}");
        if allowed {
            assert!(headers["access-control-expose-headers"].to_str().unwrap().contains("retry-after"));
        }
    }
    let without_origin = http
        .get(format!("{}/api/v1/org/{org}/credits", app.base_url))
        .bearer_auth(&token)
        .header("api-version", "1.0.0")
        .send()
        .await
        .unwrap();
    assert!(without_origin.headers().get("access-control-allow-origin").is_none());
}

/// The status of one HTTP/1.1 request written as given (`head` without its blank line).
async fn status_of_raw(app: &TestApp, head: &str) -> u16 {
    let mut stream = TcpStream::connect(host(app)).await.expect("connects");
    stream.write_all(format!("{head}\r\n").as_bytes()).await.expect("writes");
    let answer = read_until_closed(&mut stream, Duration::from_secs(10)).await.expect("answered and closed");
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// The request head's limits are exactly what `docs/errors.md` and the README say: up to 96
/// header fields, 32 KiB of names and values, 8 KiB of path and query are served (dropshot behind
/// the edge included: the edge adds fields of its own); one more is a 400 in the envelope.
#[tokio::test]
async fn a_request_head_at_its_limits_is_served_and_one_byte_more_is_refused() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let host = host(&app);
    let start = |target: &str| format!("GET {target} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n");
    // Two fields (host, connection) and `n` more.
    let fields = |n: usize| start("/healthz") + &(0..n).map(|i| format!("x-h{i}: v\r\n")).collect::<String>();
    assert_eq!(status_of_raw(&app, &fields(94)).await, 200, "96 header fields");
    assert_eq!(status_of_raw(&app, &fields(95)).await, 400, "97 header fields");

    // Names and values: host, connection, close and x-pad, then the padding.
    let used = "host".len() + host.len() + "connection".len() + "close".len() + "x-pad".len();
    let padded = |extra: usize| start("/healthz") + &format!("x-pad: {}\r\n", "a".repeat(32 * 1024 - used + extra));
    assert_eq!(status_of_raw(&app, &padded(0)).await, 200, "32 KiB of headers");
    assert_eq!(status_of_raw(&app, &padded(1)).await, 400, "32 KiB and one byte");

    let target = |extra: usize| format!("/healthz?p={}", "a".repeat(8 * 1024 - "/healthz?p=".len() + extra));
    assert_eq!(status_of_raw(&app, &start(&target(0))).await, 200, "8 KiB of path and query");
    assert_eq!(status_of_raw(&app, &start(&target(1))).await, 400, "8 KiB and one byte");
}
