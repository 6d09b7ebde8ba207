//! Project automation, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! `codegen` regenerates everything derived from the OpenAPI documents (or, with `--check`, only
//! says what is stale); `generate-api` turns any OpenAPI document into a dropshot API crate;
//! `demo` runs the whole purchase flow offline.

mod codegen;
mod demo;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Project automation for the credits workspace", arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the client, the API traits and the corpus crates from their OpenAPI documents.
    Codegen {
        /// Write nothing; fail, naming each stale file, if anything generated is out of date.
        #[arg(long)]
        check: bool,
    },
    /// Write a standalone dropshot API crate (trait and types) for any OpenAPI 3.0 document.
    GenerateApi {
        /// The OpenAPI 3.0 document (JSON).
        #[arg(long)]
        spec: PathBuf,
        /// The crate's directory; `src/generated.rs` is rewritten, other files are written once.
        #[arg(long)]
        out: PathBuf,
        /// Leave out operations dropshot cannot express, listing them, instead of failing.
        #[arg(long)]
        skip_unsupported: bool,
    },
    /// Measure code generation: every target generated and compared N times in this process;
    /// prints the time per run and the peak memory (the target is under 2 s a run).
    BenchCodegen {
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Run the purchase flow offline: Stripe double, server on a temporary SQLite database,
    /// the generated client buying 3 bundles.
    Demo,
}

fn main() {
    if let Err(error) = run(Cli::parse().command) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Codegen { check } => codegen::run(check),
        Command::GenerateApi { spec, out, skip_unsupported } => codegen::generate_api(&spec, &out, skip_unsupported),
        Command::Demo => demo::run(),
        Command::BenchCodegen { runs } => codegen::bench(runs),
    }
}

/// The workspace root, found from this crate's manifest directory.
pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace root").to_path_buf()
}
