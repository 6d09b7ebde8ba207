//! Project automation, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! `codegen` regenerates everything derived from the OpenAPI documents (or, with `--check`, only
//! says what is stale); `generate-api` turns any OpenAPI document into a dropshot API crate;
//! `demo` runs the whole purchase flow offline; `bench` and `soak` measure a release build.

mod bench;
mod codegen;
mod demo;
mod mutants;
mod soak;

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
    /// Mutation testing (cargo-mutants, pinned) of the server's money, access and Stripe code and
    /// of the generated code's runtime: the score per file and every surviving mutant.
    Mutants {
        /// Only these files (globs, as cargo-mutants takes them); repeatable.
        #[arg(long)]
        file: Vec<String>,
        /// Only the lines changed since this git revision (`git diff REV`), e.g. `HEAD` or `main`.
        #[arg(long, value_name = "REV")]
        in_diff: Option<String>,
        /// Only the mutants whose name (`FILE:LINE:COLUMN: replace ...`) matches this regular
        /// expression; repeatable. E.g. `'edge\.rs:(3|4)\d\d:'` for lines 300-499 of edge.rs.
        #[arg(long, value_name = "REGEX")]
        re: Vec<String>,
        /// Mutants built and tested at once.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Run the server tests' PostgreSQL variants too (by default they skip themselves: they
        /// exercise the same Rust code as the SQLite variants, at twice the time per mutant).
        #[arg(long)]
        postgres: bool,
    },
    /// Benchmark the server (release build, wrk) against a bare dropshot endpoint and a minimal
    /// checkout: throughput, latency, errors, memory, webhooks, reads over a long ledger.
    Bench {
        /// A few seconds per run, one round, up to 100k ledger rows.
        #[arg(long)]
        quick: bool,
        /// CI's check that the benchmark still runs: debug build, 1 s runs, 10k ledger rows at
        /// most; its numbers mean nothing, only that every step completes without errors.
        #[arg(long, conflicts_with = "quick")]
        smoke: bool,
        /// A PostgreSQL admin URL: the runs are repeated on a database made there (and dropped).
        #[arg(long, env = "CREDITS_BENCH_POSTGRES")]
        postgres: Option<String>,
    },
    /// Run two server instances on one database under mixed load for N minutes (release build,
    /// the Stripe double with injected faults); print RSS and open descriptors every 30 s; fail on
    /// an unexpected answer, memory or descriptors that grow, or a balance that disagrees with
    /// Stripe or the ledger. Not part of CI.
    Soak {
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
        minutes: u64,
        /// A PostgreSQL admin URL: the run uses a database made there (and dropped), not SQLite.
        #[arg(long, env = "CREDITS_SOAK_POSTGRES")]
        postgres: Option<String>,
    },
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
        Command::Mutants { file, in_diff, re, jobs, postgres } => {
            mutants::run(mutants::Options { files: file, in_diff, names: re, jobs, postgres })
        }
        Command::Bench { quick, smoke, postgres } => bench::run(bench::Options { quick, smoke, postgres }),
        Command::Soak { minutes, postgres } => soak::run(soak::Options { minutes, postgres }),
    }
}

/// The workspace root, found at run time: from `CARGO_MANIFEST_DIR`, which cargo sets for the
/// process it runs (`cargo xtask` is `cargo run -p xtask`), else by asking cargo for the workspace
/// of the current directory. Never a path compiled into the binary: two clones sharing one target
/// directory share this binary, and each must work on its own files.
pub(crate) fn workspace_root() -> PathBuf {
    if let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        let xtask = PathBuf::from(manifest_dir);
        if xtask.join("src/codegen.rs").exists()
            && let Some(root) = xtask.parent()
        {
            return root.to_path_buf();
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let located = std::process::Command::new(cargo)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok());
    match located.as_deref().map(str::trim).map(std::path::Path::new).and_then(std::path::Path::parent) {
        Some(root) => root.to_path_buf(),
        None => {
            eprintln!("error: cannot find the workspace: run `cargo xtask` from inside it");
            std::process::exit(1);
        }
    }
}
