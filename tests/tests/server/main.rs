//! Contract and behaviour tests against the real server on port 0, through the generated client,
//! with the Stripe double; each test has its own database (SQLite file, or a fresh PostgreSQL
//! database when `CREDITS_TEST_POSTGRES` or the local server is available).

mod errors;
mod helpers;
mod purchase;
mod served_spec;
