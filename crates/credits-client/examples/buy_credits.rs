//! A consumer of the credits API: start a purchase of credit bundles, handle the API's errors by
//! their stable `type`, and read the balance.
//!
//! ```sh
//! CREDITS_URL=http://127.0.0.1:8080 CREDITS_TOKEN=cr_... CREDITS_ORG=acme \
//!   cargo run -p credits-client --example buy_credits -- 3
//! ```

use std::num::NonZeroU64;

use credits_client::types::{ApiErrorPayloadType, CreateCheckoutSessionRequest};
use credits_client::{Credentials, Error, connect};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("CREDITS_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let token = std::env::var("CREDITS_TOKEN").map_err(|_| anyhow::anyhow!("set CREDITS_TOKEN to an API token"))?;
    let org = std::env::var("CREDITS_ORG").map_err(|_| anyhow::anyhow!("set CREDITS_ORG to an organization slug"))?;
    let bundles: u64 = std::env::args().nth(1).as_deref().unwrap_or("1").parse()?;
    let bundles = NonZeroU64::new(bundles).ok_or_else(|| anyhow::anyhow!("buy at least one bundle"))?;

    let client = connect(&url, Credentials::Bearer(token))?;
    let request = CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/billing".into(),
        quantity: bundles,
        success_url: "https://app.example/billing/done?session={CHECKOUT_SESSION_ID}".into(),
    };
    match client.create_checkout_session().org(&org).body(request).send().await {
        Ok(session) => println!("pay here: {}", session.checkout_url),
        Err(Error::ErrorResponse(response)) => {
            let error = response.into_inner();
            match error.type_ {
                ApiErrorPayloadType::AuthenticationError => eprintln!("the token is wrong or revoked"),
                ApiErrorPayloadType::PermissionError => eprintln!("only owners and admins may buy credits"),
                ApiErrorPayloadType::NotFoundError => eprintln!("no organization {org:?} for this token"),
                ApiErrorPayloadType::ValidationError => {
                    for item in error.errors.unwrap_or_default() {
                        let loc: Vec<String> = item.loc.iter().map(ToString::to_string).collect();
                        eprintln!("invalid {}: {}", loc.join("."), item.msg);
                    }
                }
                ApiErrorPayloadType::RateLimitError => eprintln!("slow down: {}", error.detail),
                ApiErrorPayloadType::BadGatewayError | ApiErrorPayloadType::GatewayTimeoutError => {
                    eprintln!("the payment provider is unavailable; try again later")
                }
                other => eprintln!("{other}: {}", error.detail),
            }
            std::process::exit(1);
        }
        Err(other) => return Err(other.into()),
    }

    let balance = client.get_credit_balance().org(&org).send().await?.into_inner();
    println!("balance: {} credits{}", balance.balance, if balance.is_low_balance { " (low)" } else { "" });
    Ok(())
}
