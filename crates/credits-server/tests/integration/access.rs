//! Access that matches what the admin meant (README, "Access"): a token acts only in the org of
//! its membership, with the role it was issued with, capped by the membership as it is now;
//! issuing a token changes no other token; removed members, revoked and expired tokens get 401
//! (on every instance once the credential cache's time to live has passed);
//! `Idempotency-Key`s belong to the token's membership.

use std::num::NonZeroU64;

use credits_client::types::{ApiErrorPayload, CreateCheckoutSessionRequest};
use credits_client::{Client, Credentials, ResponseValue};
use credits_server::Role;
use credits_server::model::Org;
use credits_server::store::{StoreError, Timestamp, TokenOptions};

use crate::helpers::{Db, TestApp, past_credential_cache_ttl, spawn_app};

type Answer<T> = Result<ResponseValue<T>, credits_client::Error<ApiErrorPayload>>;

/// The status of an answer, success or documented error.
fn status<T>(answer: Answer<T>) -> u16 {
    match answer {
        Ok(value) => value.status().as_u16(),
        Err(credits_client::Error::ErrorResponse(response)) => response.status().as_u16(),
        Err(other) => panic!("expected a documented answer, got {other:?}"),
    }
}

fn order() -> CreateCheckoutSessionRequest {
    CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/cancel".into(),
        quantity: NonZeroU64::new(1).expect("not zero"),
        success_url: "https://app.example/ok".into(),
    }
}

/// The statuses of the four org operations for `client` in `org`: buy, read a session, read the
/// balance, list the ledger. (`session` is an id of a session of that org, or any id.)
async fn statuses(client: &Client, org: &str, session: &str) -> [u16; 4] {
    [
        status(client.create_checkout_session().org(org).body(order()).send().await),
        status(client.get_checkout_session().org(org).session_id(session).send().await),
        status(client.get_credit_balance().org(org).send().await),
        status(client.list_credit_transactions().org(org).send().await),
    ]
}

async fn org(app: &TestApp, slug: &str) -> Org {
    app.store.create_org(slug, slug).await.expect("org")
}

async fn token(app: &TestApp, org: &Org, email: &str, role: Role) -> String {
    app.store.create_token(org, email, role, TokenOptions::default()).await.expect("token").token
}

async fn a_member_token_of_one_org_can_do_nothing_in_another(db: Db) {
    let app = spawn_app(db).await;
    let (acme, beta) = (org(&app, "acme").await, org(&app, "beta").await);
    let owner_in_acme = token(&app, &acme, "ann@example.com", Role::Owner).await;
    let session = app
        .client(&owner_in_acme)
        .create_checkout_session()
        .org("acme")
        .body(order())
        .send()
        .await
        .expect("the owner buys in acme")
        .into_inner()
        .session_id;
    // The same person, issued a member token for beta afterwards.
    let member_in_beta = token(&app, &beta, "ann@example.com", Role::Member).await;

    let beta_client = app.client(&member_in_beta);
    assert_eq!(statuses(&beta_client, "acme", &session).await, [404; 4], "nothing in acme, not even reads");
    assert_eq!(statuses(&beta_client, "beta", "cs_none").await, [403, 404, 200, 200], "a member in beta");
    // Issuing the beta token changed nothing for the acme token.
    assert_eq!(statuses(&app.client(&owner_in_acme), "acme", &session).await, [200; 4]);
}

async fn a_narrower_token_leaves_the_membership_and_other_tokens_alone(db: Db) {
    let app = spawn_app(db).await;
    let acme = org(&app, "acme").await;
    let owner = token(&app, &acme, "bob@example.com", Role::Owner).await;
    let member = token(&app, &acme, "bob@example.com", Role::Member).await;

    assert_eq!(status(app.client(&member).create_checkout_session().org("acme").body(order()).send().await), 403);
    assert_eq!(status(app.client(&owner).create_checkout_session().org("acme").body(order()).send().await), 200);
}

async fn a_token_above_the_membership_needs_update_role(db: Db) {
    let app = spawn_app(db).await;
    let acme = org(&app, "acme").await;
    let member = token(&app, &acme, "cat@example.com", Role::Member).await;

    let refused = app.store.create_token(&acme, "cat@example.com", Role::Admin, TokenOptions::default()).await;
    let Err(StoreError::Refused(message)) = refused else { panic!("expected a refusal, got {refused:?}") };
    assert!(message.contains("--update-role") && message.contains("member"), "{message}");

    let promoted = TokenOptions { update_role: true, ..TokenOptions::default() };
    let admin = app.store.create_token(&acme, "cat@example.com", Role::Admin, promoted).await.expect("promoted").token;
    assert_eq!(status(app.client(&admin).create_checkout_session().org("acme").body(order()).send().await), 200);
    // The member token keeps its own role: a promotion of the membership does not widen it.
    assert_eq!(status(app.client(&member).create_checkout_session().org("acme").body(order()).send().await), 403);
}

async fn a_demoted_member_s_tokens_lose_what_the_new_role_cannot_do(db: Db) {
    let app = spawn_app(db).await;
    let acme = org(&app, "acme").await;
    let owner = token(&app, &acme, "dan@example.com", Role::Owner).await;
    assert_eq!(status(app.client(&owner).create_checkout_session().org("acme").body(order()).send().await), 200);

    let demote = TokenOptions { update_role: true, ..TokenOptions::default() };
    app.store.create_token(&acme, "dan@example.com", Role::Member, demote).await.expect("demoted");
    past_credential_cache_ttl().await;
    assert_eq!(statuses(&app.client(&owner), "acme", "cs_none").await, [403, 404, 200, 200]);
}

async fn a_removed_member_s_tokens_stop_working_for_good(db: Db) {
    let app = spawn_app(db).await;
    let (acme, beta) = (org(&app, "acme").await, org(&app, "beta").await);
    let in_acme = token(&app, &acme, "eve@example.com", Role::Owner).await;
    let in_beta = token(&app, &beta, "eve@example.com", Role::Owner).await;

    assert!(app.store.remove_member(&acme, "eve@example.com").await.unwrap());
    assert_eq!(statuses(&app.client(&in_acme), "acme", "cs_none").await, [401; 4]);
    assert_eq!(status(app.client(&in_beta).get_credit_balance().org("beta").send().await), 200, "beta untouched");
    assert!(!app.store.remove_member(&acme, "eve@example.com").await.unwrap(), "no longer a member");

    // Made a member again: the old token stays dead, a new one works.
    let again = token(&app, &acme, "eve@example.com", Role::Owner).await;
    assert_eq!(status(app.client(&in_acme).get_credit_balance().org("acme").send().await), 401);
    assert_eq!(status(app.client(&again).get_credit_balance().org("acme").send().await), 200);
}

async fn revoke_tokens_ends_one_membership_s_tokens(db: Db) {
    let app = spawn_app(db).await;
    let (acme, beta) = (org(&app, "acme").await, org(&app, "beta").await);
    let first = token(&app, &acme, "fay@example.com", Role::Admin).await;
    let second = token(&app, &acme, "fay@example.com", Role::Member).await;
    let other = token(&app, &beta, "fay@example.com", Role::Admin).await;

    assert_eq!(app.store.revoke_tokens(&acme, "fay@example.com").await.unwrap(), 2);
    for revoked in [&first, &second] {
        assert_eq!(status(app.client(revoked).get_credit_balance().org("acme").send().await), 401);
    }
    assert_eq!(status(app.client(&other).get_credit_balance().org("beta").send().await), 200);
}

/// A token in use on two instances sharing the database, then revoked: both refuse it once the
/// credential cache's time to live has passed (README, "Access"), neither sooner than it read it.
async fn a_revocation_reaches_every_instance_within_the_cache_ttl(db: Db) {
    let app = spawn_app(db).await;
    let acme = org(&app, "acme").await;
    let used = token(&app, &acme, "joe@example.com", Role::Owner).await;
    let second = app.start_second_instance(|_| {}).await;
    let on_second =
        credits_client::connect(&format!("http://{}", second.local_addr()), Credentials::Bearer(used.clone()))
            .expect("client");
    let instances = [app.client(&used), on_second];
    for client in &instances {
        assert_eq!(status(client.get_credit_balance().org("acme").send().await), 200);
    }

    assert!(app.store.revoke_token(&used).await.unwrap());
    past_credential_cache_ttl().await;
    for client in &instances {
        assert_eq!(statuses(client, "acme", "cs_none").await, [401; 4]);
    }
    second.close().await.unwrap();
}

async fn an_expired_token_is_401(db: Db) {
    let app = spawn_app(db).await;
    let acme = org(&app, "acme").await;
    let expiring = |at| TokenOptions { expires_at: Some(at), update_role: false };
    let past = Timestamp::now() - chrono::TimeDelta::seconds(1);
    let future = Timestamp::now() + chrono::TimeDelta::hours(1);
    let expired = app.store.create_token(&acme, "gil@example.com", Role::Owner, expiring(past)).await.unwrap().token;
    let valid = app.store.create_token(&acme, "gil@example.com", Role::Owner, expiring(future)).await.unwrap().token;

    assert_eq!(statuses(&app.client(&expired), "acme", "cs_none").await, [401; 4]);
    assert_eq!(status(app.client(&valid).get_credit_balance().org("acme").send().await), 200);
}

async fn tokens_are_listed_without_secrets_and_last_use_is_recorded_once_a_minute(db: Db) {
    let app = spawn_app(db).await;
    let (acme, beta) = (org(&app, "acme").await, org(&app, "beta").await);
    let used = token(&app, &acme, "hal@example.com", Role::Admin).await;
    token(&app, &beta, "hal@example.com", Role::Member).await;

    let listed = app.store.list_tokens(Some(&acme)).await.unwrap();
    assert_eq!(listed.len(), 1, "only acme's: {listed:?}");
    let listing = &listed[0];
    assert!(used.starts_with(&format!("{}_", listing.prefix)), "the prefix is how the token starts");
    // `cr_`, 12 characters of the token's id, `_`, 64 hex characters of secret: a shape secret
    // scanners can match, and a prefix that names the token without revealing it.
    assert_eq!(listing.prefix, format!("cr_{}", &listing.id[..12]));
    let secret = &used[listing.prefix.len() + 1..];
    assert!(secret.len() == 64 && secret.chars().all(|c| c.is_ascii_hexdigit()), "{used}");
    assert!(used.len() > listing.prefix.len() + 32, "the listing holds no secret");
    assert_eq!((listing.org.as_deref(), listing.email.as_str()), (Some("acme"), "hal@example.com"));
    assert_eq!((listing.role, listing.legacy, listing.last_used_at), (Some(Role::Admin), false, None));
    assert_eq!(app.store.list_tokens(None).await.unwrap().len(), 2);

    let client = app.client(&used);
    client.get_credit_balance().org("acme").send().await.expect("used");
    let first_use = app.store.list_tokens(Some(&acme)).await.unwrap()[0].last_used_at.expect("recorded");
    client.get_credit_balance().org("acme").send().await.expect("used again");
    let after_second = app.store.list_tokens(Some(&acme)).await.unwrap()[0].last_used_at;
    assert_eq!(after_second, Some(first_use), "a second use within the minute writes nothing");

    // Once the recorded use is more than a minute old, the next use is recorded again.
    let id = listed[0].id.clone();
    let long_ago = first_use - chrono::TimeDelta::minutes(2);
    app.store.touch_token(&id, long_ago, first_use + chrono::TimeDelta::minutes(1)).await.unwrap();
    past_credential_cache_ttl().await;
    client.get_credit_balance().org("acme").send().await.expect("used a minute later");
    let recorded = app.store.list_tokens(Some(&acme)).await.unwrap()[0].last_used_at.expect("recorded");
    assert!(recorded >= first_use, "the use after the minute is recorded: {recorded:?}, last {long_ago:?}");
}

async fn idempotency_keys_belong_to_the_token_s_membership(db: Db) {
    let app = spawn_app(db).await;
    let (acme, beta) = (org(&app, "acme").await, org(&app, "beta").await);
    let in_acme = token(&app, &acme, "ivy@example.com", Role::Owner).await;
    let in_beta = token(&app, &beta, "ivy@example.com", Role::Owner).await;
    let buy = |client: Client, org: &'static str| async move {
        client.create_checkout_session().org(org).idempotency_key("same-key").body(order()).send().await
    };

    let first = buy(app.client(&in_acme), "acme").await.expect("acme").into_inner();
    // The same person and key in another org is another request, not a reuse (no 409).
    let second = buy(app.client(&in_beta), "beta").await.expect("beta").into_inner();
    assert_ne!(first.session_id, second.session_id);
    assert_eq!(buy(app.client(&in_acme), "acme").await.expect("replay").into_inner(), first);
}

crate::on_both_databases!(
    a_member_token_of_one_org_can_do_nothing_in_another,
    a_narrower_token_leaves_the_membership_and_other_tokens_alone,
    a_token_above_the_membership_needs_update_role,
    a_demoted_member_s_tokens_lose_what_the_new_role_cannot_do,
    a_removed_member_s_tokens_stop_working_for_good,
    revoke_tokens_ends_one_membership_s_tokens,
    a_revocation_reaches_every_instance_within_the_cache_ttl,
    an_expired_token_is_401,
    tokens_are_listed_without_secrets_and_last_use_is_recorded_once_a_minute,
    idempotency_keys_belong_to_the_token_s_membership,
);
