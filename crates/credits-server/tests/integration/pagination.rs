//! Paging through the ledger with `before`: a client that keeps passing the last id it saw walks
//! the whole history exactly once, newest first, even where many entries share one timestamp; a
//! page deep in a long history holds exactly the entries before the cursor; a cursor that is not
//! one of the org's entries is a 404 (a value that is not a UUID: a 422).

use credits_client::types::ApiErrorPayload;
use credits_server::Role;
use sqlx::Connection;
use uuid::Uuid;

use crate::helpers::{Db, TestApp, spawn_app};

on_both_databases!(
    pages_walk_the_whole_history_once,
    a_page_deep_in_a_long_history_holds_what_precedes_its_cursor,
    a_cursor_that_is_not_the_orgs_is_404,
);

/// Appends one ledger entry per `(org slug, id)`, in that order, all with the same timestamp (as
/// entries written in one instant have), through SQL so that long histories are quick to make.
async fn append(app: &TestApp, entries: &[(&str, Uuid)]) {
    let mut slugs: Vec<&str> = entries.iter().map(|(slug, _)| *slug).collect();
    slugs.dedup();
    let mut org_ids = std::collections::HashMap::new();
    for slug in slugs {
        let org = app.store.org_by_slug(slug).await.unwrap().expect("the org exists");
        org_ids.insert(slug, org.id);
    }
    for chunk in entries.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(slug, id)| {
                format!("('{id}', '{}', 1, 'admin_adjustment', 'test', '2026-03-04T05:06:07Z')", org_ids[slug])
            })
            .collect();
        let sql = format!(
            "INSERT INTO ledger (id, org_id, amount, transaction_type, description, created_at) VALUES {}",
            values.join(", ")
        );
        if app.database_url.starts_with("postgres") {
            let mut connection = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            sqlx::query(&sql).execute(&mut connection).await.unwrap();
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            sqlx::query(&sql).execute(&mut connection).await.unwrap();
        }
    }
}

/// The ids of one page: `limit` entries of `org` older than `before`.
async fn page(app: &TestApp, token: &str, org: &str, limit: u64, before: Option<Uuid>) -> Vec<Uuid> {
    let client = app.client(token);
    let mut request =
        client.list_credit_transactions().org(org).limit(std::num::NonZeroU64::new(limit).expect("a positive limit"));
    if let Some(before) = before {
        request = request.before(before);
    }
    request.send().await.expect("a page").into_inner().iter().map(|t| t.id).collect()
}

/// Pages of 7 over 250 entries sharing one timestamp, interleaved with another org's entries and
/// followed by entries the API wrote itself: every entry comes exactly once, newest first, and
/// the page after the oldest is empty.
async fn pages_walk_the_whole_history_once(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    let (other, _) = app.org_with_token(Role::Member).await;
    let mut written = Vec::new();
    let mut entries = Vec::new();
    for i in 0..250 {
        let id = Uuid::new_v4();
        entries.push((org.as_str(), id));
        written.push(id);
        if i % 3 == 0 {
            entries.push((other.as_str(), Uuid::new_v4()));
        }
    }
    append(&app, &entries).await;
    let handle = app.store.org_by_slug(&org).await.unwrap().unwrap();
    for _ in 0..3 {
        app.store.grant(&handle, 5, "later").await.unwrap();
    }
    let newest_first = page(&app, &token, &org, 3, None).await;
    assert_eq!(newest_first.len(), 3);
    written.extend(newest_first.iter().rev());
    written.reverse();

    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let ids = page(&app, &token, &org, 7, before).await;
        if ids.is_empty() {
            break;
        }
        assert!(ids.len() <= 7);
        before = ids.last().copied();
        seen.extend(ids);
        assert!(seen.len() <= written.len(), "the walk does not end");
    }
    assert_eq!(seen, written, "every entry once, newest first, none of the other org's");
}

/// 20,000 entries with one timestamp: the page of 100 before the 151st oldest holds the 150th
/// down to the 51st, in that order; the page before the oldest is empty.
async fn a_page_deep_in_a_long_history_holds_what_precedes_its_cursor(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    let ids: Vec<Uuid> = (0..20_000).map(|_| Uuid::new_v4()).collect();
    let entries: Vec<(&str, Uuid)> = ids.iter().map(|id| (org.as_str(), *id)).collect();
    append(&app, &entries).await;

    let deep = page(&app, &token, &org, 100, Some(ids[150])).await;
    let expected: Vec<Uuid> = ids[50..150].iter().rev().copied().collect();
    assert_eq!(deep, expected);
    let first = page(&app, &token, &org, 100, None).await;
    assert_eq!(first, ids[19_900..].iter().rev().copied().collect::<Vec<_>>());
    assert!(page(&app, &token, &org, 100, Some(ids[0])).await.is_empty(), "nothing precedes the oldest");
}

/// An id that was never written and another org's entry are each a 404 with the same detail (a
/// caller learns nothing about other orgs' ledgers); a value that is not an id is a 422 at
/// `["query", "before"]`.
async fn a_cursor_that_is_not_the_orgs_is_404(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    let (other, _) = app.org_with_token(Role::Member).await;
    let mine = Uuid::new_v4();
    let theirs = Uuid::new_v4();
    append(&app, &[(org.as_str(), mine), (other.as_str(), theirs)]).await;
    assert!(page(&app, &token, &org, 10, Some(mine)).await.is_empty(), "the org's own oldest entry is a cursor");

    let get = |before: String| {
        let request = reqwest::Client::new()
            .get(format!("{}/api/v1/org/{org}/credits/transactions?before={before}", app.base_url))
            .bearer_auth(&token);
        async move {
            let response = request.send().await.expect("the server answers");
            let status = response.status().as_u16();
            (status, response.json::<ApiErrorPayload>().await.expect("the envelope"))
        }
    };
    let mut details = Vec::new();
    for before in [Uuid::new_v4().to_string(), theirs.to_string()] {
        let (status, payload) = get(before.clone()).await;
        assert_eq!(status, 404, "{before}");
        details.push(payload.detail.replace(&before, "ID"));
    }
    let (status, payload) = get("not-an-id".to_string()).await;
    assert_eq!(status, 422);
    let errors = payload.errors.expect("errors");
    let loc: Vec<String> = errors[0].loc.iter().map(ToString::to_string).collect();
    assert_eq!(loc, ["query", "before"]);
    assert_eq!(details[0], details[1], "an unknown id and another org's id are answered alike");
}
