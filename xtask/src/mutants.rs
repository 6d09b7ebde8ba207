//! `cargo xtask mutants [--file GLOB]... [--re REGEX]... [--in-diff REV]`: mutation testing with cargo-mutants
//! (pinned, installed when missing) over the code that decides money, access and Stripe calls,
//! and the runtime of the generated code. Prints the score per file and every surviving mutant;
//! writes `target/mutants/summary.json`. Too slow for CI's default run on 2 cores; `--in-diff`
//! limits it to the lines a change touches, to run before a submission.

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::Value;

const VERSION: &str = "27.1.0";

/// The packages whose code is mutated, and the files left out (command-line parsing and
/// configuration: they decide nothing about money or access).
const PACKAGES: &[&str] = &["credits-server", "dropshot-codegen-runtime"];
const EXCLUDED: &[&str] = &["crates/credits-server/src/main.rs", "crates/credits-server/src/config.rs"];

pub(crate) struct Options {
    pub files: Vec<String>,
    pub in_diff: Option<String>,
    /// Regular expressions on the mutants' names (cargo-mutants' `--re`).
    pub names: Vec<String>,
    pub jobs: usize,
    /// Also run the tests' PostgreSQL variants (twice the time of each mutant).
    pub postgres: bool,
}

/// An address where no PostgreSQL answers: the server's tests then skip their PostgreSQL
/// variants, which run the same Rust code as the SQLite ones.
const NO_POSTGRES: &str = "postgres://postgres@127.0.0.1:1/unreachable";

#[derive(Serialize, Default)]
struct FileScore {
    caught: usize,
    missed: usize,
    timeout: usize,
    unviable: usize,
    /// Caught (a timeout counts as caught: the tests noticed) over viable mutants.
    score: f64,
    survivors: Vec<String>,
}

pub(crate) fn run(options: Options) -> anyhow::Result<()> {
    ensure_installed()?;
    let root = crate::workspace_root();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target"));
    let out = target.join("mutants");
    std::fs::create_dir_all(&out)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(&root).args(["mutants", "--no-shuffle", "--jobs", &options.jobs.to_string()]);
    command.arg("--output").arg(&out).args(["--profile", "mutants"]);
    // The tests run under cargo-nextest (on the machine with the toolchain), which stops at the
    // first failing test: a caught mutant costs the time to its first failure, not the whole
    // suite's. The server's tests mostly wait on sockets, timers and the Stripe double, not the
    // CPU: eight at once halve the suite's time on two cores.
    command.args(["--test-tool", "nextest"]);
    if std::env::var_os("NEXTEST_TEST_THREADS").is_none() {
        command.env("NEXTEST_TEST_THREADS", "8");
    }
    if !options.postgres {
        command.env("CREDITS_TEST_POSTGRES", NO_POSTGRES).env_remove("CREDITS_REQUIRE_POSTGRES");
    }
    for package in PACKAGES {
        command.args(["--package", package]);
    }
    for excluded in EXCLUDED {
        command.args(["--exclude", excluded]);
    }
    for file in &options.files {
        command.args(["--file", file]);
    }
    for name in &options.names {
        command.args(["--re", name]);
    }
    if let Some(base) = &options.in_diff {
        let diff = Command::new("git").current_dir(&root).args(["diff", base]).output()?;
        if !diff.status.success() {
            bail!("git diff {base}: {}", String::from_utf8_lossy(&diff.stderr));
        }
        let path = out.join("change.diff");
        std::fs::write(&path, &diff.stdout)?;
        command.arg("--in-diff").arg(&path);
    }
    // The mutated packages' own tests decide; cargo-mutants' exit code says survivors exist,
    // which the summary below reports itself.
    let status = command.status().context("running cargo mutants")?;
    let outcomes = out.join("mutants.out/outcomes.json");
    if !outcomes.exists() {
        bail!("cargo mutants wrote no outcomes ({status})");
    }
    let scores = summarize(&std::fs::read_to_string(&outcomes)?)?;
    print(&scores);
    std::fs::write(out.join("summary.json"), serde_json::to_string_pretty(&scores)?)?;
    println!("\nsummary: {}", out.join("summary.json").display());
    Ok(())
}

/// cargo-mutants at its pinned version, and cargo-nextest (any version: the machine's own when
/// it has one), installed with `cargo install` when missing.
fn ensure_installed() -> anyhow::Result<()> {
    let mutants = Command::new("cargo").args(["mutants", "--version"]).output();
    if !mutants.is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(VERSION)) {
        install(&["cargo-mutants", "--version", VERSION])?;
    }
    let nextest = Command::new("cargo").args(["nextest", "--version"]).output();
    if !nextest.is_ok_and(|o| o.status.success()) {
        install(&["cargo-nextest"])?;
    }
    Ok(())
}

fn install(what: &[&str]) -> anyhow::Result<()> {
    eprintln!("installing {}...", what.join(" "));
    let status = Command::new("cargo").arg("install").arg("--locked").args(what).status()?;
    if !status.success() {
        bail!("cargo install {} failed", what.join(" "));
    }
    Ok(())
}

/// Per file: caught, missed, timed out and unviable mutants, and the survivors.
fn summarize(outcomes: &str) -> anyhow::Result<BTreeMap<String, FileScore>> {
    let outcomes: Value = serde_json::from_str(outcomes)?;
    let mut files: BTreeMap<String, FileScore> = BTreeMap::new();
    for outcome in outcomes["outcomes"].as_array().into_iter().flatten() {
        let Some(mutant) = outcome["scenario"].get("Mutant") else { continue };
        let file = mutant["file"].as_str().unwrap_or("?").to_string();
        let score = files.entry(file.clone()).or_default();
        match outcome["summary"].as_str().unwrap_or_default() {
            "CaughtMutant" => score.caught += 1,
            "Timeout" => score.timeout += 1,
            "Unviable" => score.unviable += 1,
            "MissedMutant" => {
                score.missed += 1;
                let line = mutant.pointer("/span/start/line").and_then(Value::as_u64).unwrap_or(0);
                let name = mutant["name"].as_str().unwrap_or("?");
                // cargo-mutants' names usually start with the file and position already.
                let survivor =
                    if name.starts_with(file.as_str()) { name.to_string() } else { format!("{file}:{line}: {name}") };
                score.survivors.push(survivor);
            }
            _ => {}
        }
    }
    for score in files.values_mut() {
        let viable = score.caught + score.missed + score.timeout;
        score.score = if viable == 0 { 1.0 } else { (score.caught + score.timeout) as f64 / viable as f64 };
    }
    Ok(files)
}

fn print(scores: &BTreeMap<String, FileScore>) {
    println!("\n{:<60} {:>7} {:>7} {:>8} {:>9} {:>7}", "file", "caught", "missed", "timeout", "unviable", "score");
    for (file, s) in scores {
        println!(
            "{file:<60} {:>7} {:>7} {:>8} {:>9} {:>6.0}%",
            s.caught,
            s.missed,
            s.timeout,
            s.unviable,
            s.score * 100.0
        );
    }
    let survivors: Vec<&String> = scores.values().flat_map(|s| &s.survivors).collect();
    if !survivors.is_empty() {
        println!("\nsurviving mutants:");
        for survivor in survivors {
            println!("  {survivor}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_count_timeouts_as_caught_and_list_survivors() {
        let outcomes = r#"{"outcomes": [
            {"scenario": "Baseline", "summary": "Success"},
            {"scenario": {"Mutant": {"name": "replace < with <=", "file": "src/a.rs", "span": {"start": {"line": 7}}}}, "summary": "MissedMutant"},
            {"scenario": {"Mutant": {"name": "m2", "file": "src/a.rs"}}, "summary": "CaughtMutant"},
            {"scenario": {"Mutant": {"name": "m3", "file": "src/a.rs"}}, "summary": "Timeout"},
            {"scenario": {"Mutant": {"name": "m4", "file": "src/a.rs"}}, "summary": "Unviable"}
        ]}"#;
        let scores = summarize(outcomes).unwrap();
        let a = &scores["src/a.rs"];
        assert_eq!((a.caught, a.missed, a.timeout, a.unviable), (1, 1, 1, 1));
        assert!((a.score - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(a.survivors, ["src/a.rs:7: replace < with <="]);
    }
}
