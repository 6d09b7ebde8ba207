//! `credits-bench`: the reference points `cargo xtask bench` drives beside the real server, so
//! that its table says what each feature of the server costs.
//!
//! - `bare`: a dropshot endpoint with the checkout's route, path parameter and body type that
//!   answers at once: dropshot's own ceiling on this machine; with `--behind-edge`, the server's
//!   edge in front of it, so that the difference is what the edge costs a request.
//! - `minimal`: a checkout that does only the I/O a checkout must do (the token's hash looked up
//!   with its org and role in one query, one form-encoded Stripe call through a shared client,
//!   one insert): the realistic limit for the endpoint.
//! - `seed-ledger`: appends ledger rows to an org, to measure reads over a large history.
//! - `ledger-totals`: each org's stored balance and ledger sum, for `cargo xtask soak`'s checks.
//! - `ledger-id`: prints the id of an org's entry deep in its history, the cursor of a deep page.
//! - `create-database` / `drop-database`: a PostgreSQL database of the benchmark's own.

mod bare;
mod minimal;
mod seed;

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "credits-bench", about = "Reference servers and data for `cargo xtask bench`")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the bare endpoint; prints the bound address.
    Bare {
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: SocketAddr,
        /// Put the server's edge (its defaults, limits lifted) in front, listening on `bind`.
        #[arg(long)]
        behind_edge: bool,
    },
    /// Serve the minimal checkout; prints the bound address.
    Minimal {
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: SocketAddr,
        /// `sqlite://FILE` or `postgres://...`; the minimal checkout keeps its own tables there.
        #[arg(long)]
        database_url: String,
        /// The Stripe API base (the double), with a trailing slash.
        #[arg(long)]
        stripe_api_base: String,
        /// The one token it accepts (for org `--org`, as an owner).
        #[arg(long)]
        token: String,
        #[arg(long)]
        org: String,
    },
    /// Append `rows` grant entries to the ledger of org `org` (a server database).
    SeedLedger {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        org: String,
        #[arg(long)]
        rows: u64,
    },
    /// Print each org's slug, stored balance and ledger sum (tab-separated, one org a line).
    LedgerTotals {
        #[arg(long)]
        database_url: String,
    },
    /// Print the id of the entry of org `org` that has `offset` older entries before it.
    LedgerId {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        org: String,
        #[arg(long)]
        offset: u64,
    },
    /// Create a PostgreSQL database (through an admin URL); exits 2 when PostgreSQL cannot be reached.
    CreateDatabase {
        #[arg(long)]
        admin_url: String,
        #[arg(long)]
        name: String,
    },
    /// Drop a PostgreSQL database made by `create-database`.
    DropDatabase {
        #[arg(long)]
        admin_url: String,
        #[arg(long)]
        name: String,
    },
}

#[tokio::main]
async fn main() {
    if let Err(error) = run(Cli::parse().command).await {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Bare { bind, behind_edge } => bare::serve(bind, behind_edge).await,
        Command::Minimal { bind, database_url, stripe_api_base, token, org } => {
            minimal::serve(bind, &database_url, &stripe_api_base, &token, &org).await
        }
        Command::SeedLedger { database_url, org, rows } => seed::ledger(&database_url, &org, rows).await,
        Command::LedgerTotals { database_url } => seed::ledger_totals(&database_url).await,
        Command::LedgerId { database_url, org, offset } => seed::ledger_id(&database_url, &org, offset).await,
        Command::CreateDatabase { admin_url, name } => seed::create_database(&admin_url, &name).await,
        Command::DropDatabase { admin_url, name } => seed::drop_database(&admin_url, &name).await,
    }
}
