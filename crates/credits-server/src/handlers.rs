//! The HTTP handlers: each operation of `CreditsApi`, with authentication, membership and role,
//! the client's API version, and the allowed redirect origins. Everything else about the input
//! is checked by the generated extractors, from the spec, before a handler runs.

use std::sync::Arc;

use credits_api::support::{
    BearerAuthOrApiKeyAuthSchemes, Credentials, HeaderParams, JsonBody, PathParams, QueryParams,
};
use credits_api::{
    CheckoutPaymentStatus, CheckoutSessionResponse, CheckoutSessionStatus, CheckoutStatus, CreateCheckoutSessionHeader,
    CreateCheckoutSessionPath, CreateCheckoutSessionRequest, CreateCheckoutSessionResponse, CreditBalanceResponse,
    CreditTransaction, CreditTransactionType, CreditsApi, GetCheckoutSessionPath, GetCheckoutSessionResponse,
    GetCreditBalancePath, GetCreditBalanceResponse, GetOpenapiDocumentResponse, ListCreditTransactionsPath,
    ListCreditTransactionsQuery, ListCreditTransactionsQueryDeclared, ListCreditTransactionsResponse,
    ReceiveStripeWebhookHeader, ReceiveStripeWebhookResponse, ValidationErrorItem, WebhookReceipt,
};
use dropshot::{RequestContext, UntypedBody};

use crate::ServerContext;
use crate::error::{Error, HttpError};
use crate::store::{Caller, IdempotencyClaim, NewSession, Org, Role, sha256_hex};

/// The implementation of the generated trait.
pub enum CreditsServer {}

type Ctx = Arc<ServerContext>;

/// Who is calling, in which org, with which role: every operation but the webhook starts here.
struct Access {
    caller: Caller,
    org: Org,
    role: Role,
}

/// The token a request presents (the generated extractor already refused requests without one).
type Token = Credentials<BearerAuthOrApiKeyAuthSchemes>;

async fn authorize(rqctx: &RequestContext<Ctx>, token: Token, org_slug: &str) -> Result<Access, Error> {
    let ctx = rqctx.context();
    check_client_version(rqctx, ctx)?;
    let caller = ctx.store.authenticate(&token.value).await?.ok_or(Error::Unauthenticated)?;
    let (org, role) = ctx
        .store
        .membership(&caller.user_id, org_slug)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Organization {org_slug:?} not found")))?;
    Ok(Access { caller, org, role })
}

/// 426 when the client announces an `api-version` older than the configured minimum.
fn check_client_version(rqctx: &RequestContext<Ctx>, ctx: &ServerContext) -> Result<(), Error> {
    let (Some(minimum), Some(announced)) = (&ctx.config.min_client_version, rqctx.request.headers().get("api-version"))
    else {
        return Ok(());
    };
    let announced = announced.to_str().unwrap_or_default();
    match dropshot::semver::Version::parse(announced) {
        Ok(version) if version >= *minimum => Ok(()),
        _ => Err(Error::UpgradeRequired(format!(
            "API version {announced:?} is no longer supported; upgrade the client to {minimum} or later"
        ))),
    }
}

/// The one rule on redirect URLs that the spec cannot state, since it is the deployment's: when
/// allowed origins are configured, the URL's origin must be one of them. (Its shape, https or a
/// loopback http, no userinfo, is the spec's `pattern`, enforced before the handler runs.)
fn check_origin(url: &str, field: &str, allowed: &[String]) -> Option<ValidationErrorItem> {
    if allowed.is_empty() {
        return None;
    }
    let origin = url::Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    if allowed.iter().any(|a| a.trim_end_matches('/') == origin) {
        return None;
    }
    Some(ValidationErrorItem::at(
        &["body", field],
        "origin_not_allowed",
        format!("{field} must point at an allowed origin, not {origin}"),
    ))
}

impl CreditsApi for CreditsServer {
    type Context = Ctx;

    async fn create_checkout_session(
        rqctx: RequestContext<Ctx>,
        credentials: Token,
        path: PathParams<CreateCheckoutSessionPath>,
        headers: HeaderParams<CreateCheckoutSessionHeader>,
        body: JsonBody<CreateCheckoutSessionRequest>,
    ) -> Result<CreateCheckoutSessionResponse, HttpError> {
        let ctx = rqctx.context();
        let path = path.into_inner();
        let access = authorize(&rqctx, credentials, &path.org).await?;
        if !access.role.may_buy() {
            return Err(Error::Forbidden("Only owners and admins may buy credits".into()).into());
        }
        let body = body.into_inner();
        let allowed = &ctx.config.allowed_redirect_origins;
        let problems: Vec<ValidationErrorItem> = [("success_url", &body.success_url), ("cancel_url", &body.cancel_url)]
            .into_iter()
            .filter_map(|(field, url)| check_origin(url, field, allowed))
            .collect();
        if !problems.is_empty() {
            return Err(Error::Invalid(problems).into());
        }

        let idempotency_key = headers.into_inner().idempotency_key;
        // The request as JSON: unambiguous, unlike any separator-joined form of its fields.
        let canonical = serde_json::to_vec(&(&path.org, body.quantity, &body.success_url, &body.cancel_url))
            .map_err(|e| Error::Internal(e.to_string()))?;
        let request_hash = sha256_hex(&canonical);
        // Without a client key, each request is its own Stripe call.
        let mut stripe_key = format!("credits-{}", uuid::Uuid::new_v4().simple());
        if let Some(key) = &idempotency_key {
            match ctx
                .store
                .claim_idempotency_key(&access.caller.user_id, key, &request_hash)
                .await
                .map_err(Error::from)?
            {
                IdempotencyClaim::Claimed { stripe_key: claimed } => stripe_key = claimed,
                IdempotencyClaim::Replay { body, .. } => {
                    let replay: CheckoutSessionResponse =
                        serde_json::from_str(&body).map_err(|e| Error::Internal(format!("stored response: {e}")))?;
                    return Ok(CreateCheckoutSessionResponse(replay));
                }
                IdempotencyClaim::Mismatch => {
                    return Err(
                        Error::Conflict("Idempotency-Key was already used with a different request".into()).into()
                    );
                }
                IdempotencyClaim::InFlight => {
                    return Err(
                        Error::Conflict("A request with this Idempotency-Key is still in progress".into()).into()
                    );
                }
            }
        }

        let outcome = create_session(ctx, &access, &body, &stripe_key).await;
        if let Some(key) = &idempotency_key {
            let store = &ctx.store;
            match &outcome {
                Ok(response) => {
                    let text = serde_json::to_string(response).map_err(|e| Error::Internal(e.to_string()))?;
                    store
                        .complete_idempotency_key(&access.caller.user_id, key, 200, &text)
                        .await
                        .map_err(Error::from)?;
                }
                Err(error) => store
                    .release_idempotency_key(&access.caller.user_id, key, !error.outcome_unknown())
                    .await
                    .map_err(Error::from)?,
            }
        }
        Ok(CreateCheckoutSessionResponse(outcome?))
    }

    async fn get_checkout_session(
        rqctx: RequestContext<Ctx>,
        credentials: Token,
        path: PathParams<GetCheckoutSessionPath>,
    ) -> Result<GetCheckoutSessionResponse, HttpError> {
        let path = path.into_inner();
        let access = authorize(&rqctx, credentials, &path.org).await?;
        let session = rqctx
            .context()
            .store
            .session(&access.org, &path.session_id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("Checkout session {:?} not found", path.session_id)))?;
        let status = match session.status.as_str() {
            "complete" => CheckoutStatus::Complete,
            "expired" => CheckoutStatus::Expired,
            _ => CheckoutStatus::Open,
        };
        let payment_status = match session.payment_status.as_str() {
            "paid" => CheckoutPaymentStatus::Paid,
            "failed" => CheckoutPaymentStatus::Failed,
            _ => CheckoutPaymentStatus::Unpaid,
        };
        Ok(GetCheckoutSessionResponse(CheckoutSessionStatus {
            session_id: session.id,
            status,
            payment_status,
            bundles: session.bundles,
            credits: session.credits,
            created_at: session.created_at,
            fulfilled_at: session.fulfilled_at,
        }))
    }

    async fn get_credit_balance(
        rqctx: RequestContext<Ctx>,
        credentials: Token,
        path: PathParams<GetCreditBalancePath>,
    ) -> Result<GetCreditBalanceResponse, HttpError> {
        let access = authorize(&rqctx, credentials, &path.into_inner().org).await?;
        let ctx = rqctx.context();
        let balance = ctx.store.balance(&access.org).await.map_err(Error::from)?;
        Ok(GetCreditBalanceResponse(CreditBalanceResponse {
            balance,
            is_low_balance: balance < ctx.config.low_balance_threshold,
            auto_refill_enabled: Some(false),
        }))
    }

    async fn list_credit_transactions(
        rqctx: RequestContext<Ctx>,
        credentials: Token,
        path: PathParams<ListCreditTransactionsPath>,
        query: QueryParams<ListCreditTransactionsQuery, ListCreditTransactionsQueryDeclared>,
    ) -> Result<ListCreditTransactionsResponse, HttpError> {
        let access = authorize(&rqctx, credentials, &path.into_inner().org).await?;
        let query = query.into_inner();
        let types: Vec<String> = query.transaction_type.iter().map(ToString::to_string).collect();
        let entries =
            rqctx.context().store.transactions(&access.org, query.limit, &types).await.map_err(Error::from)?;
        let mut transactions = Vec::with_capacity(entries.len());
        for entry in entries {
            let transaction_type: CreditTransactionType = entry
                .transaction_type
                .parse()
                .map_err(|_| Error::Internal(format!("unknown transaction type {:?}", entry.transaction_type)))?;
            let id = entry.id.parse().map_err(|e| Error::Internal(format!("ledger id: {e}")))?;
            transactions.push(CreditTransaction {
                id,
                amount: entry.amount,
                created_at: entry.created_at,
                transaction_type,
                description: entry.description,
                has_receipt: entry.has_receipt,
            });
        }
        Ok(ListCreditTransactionsResponse(transactions))
    }

    async fn receive_stripe_webhook(
        rqctx: RequestContext<Ctx>,
        headers: HeaderParams<ReceiveStripeWebhookHeader>,
        body: UntypedBody,
    ) -> Result<ReceiveStripeWebhookResponse, HttpError> {
        let signature = headers.into_inner().stripe_signature;
        crate::webhook::receive(rqctx.context(), body.as_bytes(), &signature).await?;
        Ok(ReceiveStripeWebhookResponse(WebhookReceipt { received: true }))
    }

    async fn get_openapi_document(_rqctx: RequestContext<Ctx>) -> Result<GetOpenapiDocumentResponse, HttpError> {
        let document = crate::openapi::served_document().map_err(Error::Internal)?;
        Ok(GetOpenapiDocumentResponse(document))
    }
}

async fn create_session(
    ctx: &ServerContext,
    access: &Access,
    body: &CreateCheckoutSessionRequest,
    stripe_key: &str,
) -> Result<CheckoutSessionResponse, Error> {
    let price = &ctx.config.bundle_price;
    let created = ctx
        .stripe
        .create_session(stripe_key, &access.org.slug, body.quantity as u64, price, &body.success_url, &body.cancel_url)
        .await?;
    ctx.store
        .insert_session(&NewSession {
            id: &created.id,
            org: &access.org,
            user_id: &access.caller.user_id,
            bundles: body.quantity,
            price,
            credits_per_bundle: ctx.config.credits_per_bundle,
            url: &created.url,
        })
        .await?;
    Ok(CheckoutSessionResponse { checkout_url: created.url, session_id: created.id })
}
