//! The server's tests: the real server on port 0, talked to through the generated client, with
//! the Stripe double; each test has its own database (a SQLite file, or a fresh PostgreSQL
//! database when `CREDITS_TEST_POSTGRES` or the local server is available).
//!
//! One test binary, one module per subject, the helpers in `helpers.rs`. Whether the served
//! document means what `openapi/credits.json` says is checked in the workspace's `tests/` crate,
//! which holds the comparison.

/// For each named `async fn NAME(db: Db)`, the tests `NAME::sqlite` and `NAME::postgres` (which
/// says loudly when PostgreSQL is not there, and then checks nothing).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Db::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    if $crate::helpers::postgres_available().await {
                        super::$name($crate::helpers::Db::Postgres).await
                    }
                }
            }
        )*
    };
}

mod access;
mod admin;
mod admin_cli;
mod bounded_state;
mod database_faults;
mod deployment;
mod docs;
mod edge;
mod errors;
mod health;
mod helpers;
mod hostile_input;
mod input_rules;
mod metrics;
mod migrations;
mod modules;
mod money;
mod pagination;
mod processes;
mod purchase;
mod safe_defaults;
mod shutdown;
mod stripe_calls;
