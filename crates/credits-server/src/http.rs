//! The HTTP layer: the generated `CreditsApi` trait, one short handler per operation. A handler
//! takes what the generated extractors already checked against the spec, calls the domain
//! (`access`, `purchase`, `credits`), and maps the answer to the API's types; errors become the
//! envelope through `From<Error> for ErrorResponse` (`error`). Rate limiting happens before
//! dropshot, in `edge`.

use std::sync::Arc;

use credits_api::support::{
    BearerAuthOrApiKeyAuthSchemes, Credentials, HeaderParams, JsonBody, PathParams, QueryParams,
};
use credits_api::{
    CheckoutPaymentStatus, CheckoutSessionResponse, CheckoutSessionStatus, CheckoutStatus, CreateCheckoutSessionHeader,
    CreateCheckoutSessionPath, CreateCheckoutSessionRequest, CreateCheckoutSessionResponse, CreditBalanceResponse,
    CreditTransaction, CreditsApi, GetApiReferenceAssetPath, GetApiReferenceAssetResponse,
    GetApiReferenceAssetResponseHeaders, GetApiReferenceResponse, GetApiReferenceResponseHeaders,
    GetCheckoutSessionPath, GetCheckoutSessionResponse, GetCreditBalancePath, GetCreditBalanceResponse,
    GetLivenessResponse, GetOpenapiDocumentResponse, GetReadinessResponse, HealthStatus, HealthStatusStatus,
    ListCreditTransactionsPath, ListCreditTransactionsQuery, ListCreditTransactionsQueryDeclared,
    ListCreditTransactionsResponse, ReceiveStripeWebhookHeader, ReceiveStripeWebhookResponse, WebhookReceipt,
};
use dropshot::{FreeformBody, HttpResponseHeaders, RequestContext, UntypedBody};

use crate::ServerContext;
use crate::access::{self, Access};
use crate::error::{Error, ErrorResponse};
use crate::model::{PaymentStatus, SessionStatus};
use crate::store::{LedgerEntry, SessionRecord};
use crate::{credits, docs, health, openapi, purchase};

/// The implementation of the generated trait.
pub enum CreditsServer {}

type Ctx = Arc<ServerContext>;

/// The token a request presents (the generated extractor already refused requests without one).
type Token = Credentials<BearerAuthOrApiKeyAuthSchemes>;

/// The API description of the implementation.
pub fn api() -> dropshot::ApiDescription<Ctx> {
    credits_api::credits_api_mod::api_description::<CreditsServer>().expect("the generated trait describes a valid API")
}

/// The client's version, its token, and its membership of `org`.
async fn authorize(rqctx: &RequestContext<Ctx>, token: Token, org: &str) -> Result<Access, Error> {
    let ctx = rqctx.context();
    let announced = rqctx.request.headers().get("api-version").map(|v| v.to_str().unwrap_or_default());
    access::check_client_version(ctx.config.min_client_version.as_ref(), announced)?;
    access::authorize(&ctx.store, &ctx.credentials, &token.value, org).await
}

impl CreditsApi for CreditsServer {
    type Context = Ctx;

    async fn create_checkout_session(
        rqctx: RequestContext<Ctx>,
        credentials: Token,
        path: PathParams<CreateCheckoutSessionPath>,
        headers: HeaderParams<CreateCheckoutSessionHeader>,
        body: JsonBody<CreateCheckoutSessionRequest>,
    ) -> Result<CreateCheckoutSessionResponse, ErrorResponse> {
        let buyer = authorize(&rqctx, credentials, &path.into_inner().org).await?;
        let body = body.into_inner();
        let order =
            purchase::Order { bundles: body.quantity, success_url: &body.success_url, cancel_url: &body.cancel_url };
        let key = headers.into_inner().idempotency_key;
        let created = purchase::create_checkout_session(rqctx.context(), &buyer, &order, key.as_deref()).await?;
        Ok(CreateCheckoutSessionResponse(CheckoutSessionResponse {
            checkout_url: created.checkout_url,
            session_id: created.session_id,
        }))
    }

    async fn get_checkout_session(
        rqctx: RequestContext<Ctx>,
        credentials: Token,
        path: PathParams<GetCheckoutSessionPath>,
    ) -> Result<GetCheckoutSessionResponse, ErrorResponse> {
        let path = path.into_inner();
        let access = authorize(&rqctx, credentials, &path.org).await?;
        let session = purchase::session(rqctx.context(), &access, &path.session_id).await?;
        Ok(GetCheckoutSessionResponse(session_status(session)))
    }

    async fn get_credit_balance(
        rqctx: RequestContext<Ctx>,
        credentials: Token,
        path: PathParams<GetCreditBalancePath>,
    ) -> Result<GetCreditBalanceResponse, ErrorResponse> {
        let access = authorize(&rqctx, credentials, &path.into_inner().org).await?;
        let balance = credits::balance(rqctx.context(), &access).await?;
        Ok(GetCreditBalanceResponse(CreditBalanceResponse {
            balance: balance.balance,
            is_low_balance: balance.is_low,
            auto_refill_enabled: Some(false),
        }))
    }

    async fn list_credit_transactions(
        rqctx: RequestContext<Ctx>,
        credentials: Token,
        path: PathParams<ListCreditTransactionsPath>,
        query: QueryParams<ListCreditTransactionsQuery, ListCreditTransactionsQueryDeclared>,
    ) -> Result<ListCreditTransactionsResponse, ErrorResponse> {
        let access = authorize(&rqctx, credentials, &path.into_inner().org).await?;
        let query = query.into_inner();
        let types: Vec<String> = query.transaction_type.iter().map(ToString::to_string).collect();
        let before = query.before.map(|id| id.to_string());
        let entries = credits::transactions(rqctx.context(), &access, query.limit, &types, before.as_deref()).await?;
        let transactions = entries.into_iter().map(transaction).collect::<Result<_, _>>()?;
        Ok(ListCreditTransactionsResponse(transactions))
    }

    async fn receive_stripe_webhook(
        rqctx: RequestContext<Ctx>,
        headers: HeaderParams<ReceiveStripeWebhookHeader>,
        body: UntypedBody,
    ) -> Result<ReceiveStripeWebhookResponse, ErrorResponse> {
        let signature = headers.into_inner().stripe_signature;
        purchase::receive_webhook(rqctx.context(), body.as_bytes(), &signature).await?;
        Ok(ReceiveStripeWebhookResponse(WebhookReceipt { received: true }))
    }

    async fn get_openapi_document(_rqctx: RequestContext<Ctx>) -> Result<GetOpenapiDocumentResponse, ErrorResponse> {
        // Built once: it depends only on the code.
        static DOCUMENT: std::sync::OnceLock<Result<openapi::Document, String>> = std::sync::OnceLock::new();
        let document = DOCUMENT.get_or_init(|| openapi::served_document(&api())).clone().map_err(Error::Internal)?;
        Ok(GetOpenapiDocumentResponse(document))
    }

    async fn get_liveness(_rqctx: RequestContext<Ctx>) -> Result<GetLivenessResponse, ErrorResponse> {
        Ok(GetLivenessResponse(HealthStatus { status: HealthStatusStatus::Ok }))
    }

    async fn get_readiness(rqctx: RequestContext<Ctx>) -> Result<GetReadinessResponse, ErrorResponse> {
        health::ready(rqctx.context()).await?;
        Ok(GetReadinessResponse(HealthStatus { status: HealthStatusStatus::Ok }))
    }

    async fn get_api_reference(
        _rqctx: RequestContext<Ctx>,
    ) -> Result<HttpResponseHeaders<GetApiReferenceResponse, GetApiReferenceResponseHeaders>, ErrorResponse> {
        let page = docs::page().await?;
        // The page names the document and its files by path only: always fetched afresh, it
        // stays right across upgrades.
        let headers = GetApiReferenceResponseHeaders { cache_control: "no-cache".into() };
        Ok(with_content_type(GetApiReferenceResponse(FreeformBody(page.body.into())), headers, &page.content_type))
    }

    async fn get_api_reference_asset(
        _rqctx: RequestContext<Ctx>,
        path: PathParams<GetApiReferenceAssetPath>,
    ) -> Result<HttpResponseHeaders<GetApiReferenceAssetResponse, GetApiReferenceAssetResponseHeaders>, ErrorResponse>
    {
        let asset = docs::asset(&path.into_inner().file).await?;
        // Unversioned names: cached for a while, not forever, so an upgrade shows within an hour.
        let headers = GetApiReferenceAssetResponseHeaders { cache_control: "public, max-age=3600".into() };
        Ok(with_content_type(
            GetApiReferenceAssetResponse(FreeformBody(asset.body.into())),
            headers,
            &asset.content_type,
        ))
    }
}

/// dropshot labels a free-form body `application/octet-stream`; the page's files need their own
/// media type (a browser would not run a script or render a page labelled otherwise).
fn with_content_type<
    T: dropshot::HttpCodedResponse,
    H: schemars::JsonSchema + serde::Serialize + Send + Sync + 'static,
>(
    body: T,
    headers: H,
    content_type: &str,
) -> HttpResponseHeaders<T, H> {
    let mut response = HttpResponseHeaders::new(body, headers);
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    response
}

/// A session as the API shows it.
fn session_status(session: SessionRecord) -> CheckoutSessionStatus {
    CheckoutSessionStatus {
        session_id: session.id,
        status: match session.state.status {
            SessionStatus::Open => CheckoutStatus::Open,
            SessionStatus::Complete => CheckoutStatus::Complete,
            SessionStatus::Expired => CheckoutStatus::Expired,
        },
        payment_status: match session.state.payment {
            PaymentStatus::Unpaid => CheckoutPaymentStatus::Unpaid,
            PaymentStatus::Paid => CheckoutPaymentStatus::Paid,
            PaymentStatus::Failed => CheckoutPaymentStatus::Failed,
        },
        bundles: session.bundles,
        credits: session.credits,
        created_at: session.created_at,
        fulfilled_at: session.fulfilled_at,
    }
}

/// A ledger entry as the API shows it.
fn transaction(entry: LedgerEntry) -> Result<CreditTransaction, Error> {
    Ok(CreditTransaction {
        id: entry.id.parse().map_err(|e| Error::Internal(format!("ledger id: {e}")))?,
        amount: entry.amount,
        created_at: entry.created_at,
        transaction_type: entry
            .transaction_type
            .parse()
            .map_err(|_| Error::Internal(format!("unknown transaction type {:?}", entry.transaction_type)))?,
        description: entry.description,
        has_receipt: entry.receipt_url.is_some(),
        receipt_url: entry.receipt_url,
    })
}
