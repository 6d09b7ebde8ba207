//! Contract and behaviour tests against the real server on port 0, through the generated client,
//! with the Stripe double; each test has its own database (SQLite file, or a fresh PostgreSQL
//! database when `CREDITS_TEST_POSTGRES` or the local server is available).

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

mod errors;
mod helpers;
mod input_rules;
mod purchase;
mod served_spec;
