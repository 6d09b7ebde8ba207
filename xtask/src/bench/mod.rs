//! `cargo xtask bench [--quick]`: builds release, starts the Stripe double, the server, and the
//! two reference points of `credits-bench` (a bare dropshot endpoint with the checkout's route
//! and body: the framework's ceiling; a minimal checkout doing only the same I/O: the realistic
//! limit), drives load at them with wrk from a separate process, alternating, and reports
//! throughput, latency percentiles, errors, the server's peak memory, webhook fulfilment
//! throughput with duplicate deliveries (exactly-once checked after), and reads over 0, 100k and
//! 1M ledger rows (balance, first page of transactions, and the deepest page through `before`,
//! each with its ratio to the same read before any rows were seeded). A table on stdout, JSON in `target/bench/last.json`; a run with any error or
//! non-2xx answer makes the command fail.

pub(crate) mod process;
mod wrk;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use process::{Process, free_port, http, wait_ready};
use wrk::{Load, Shape};

const ORG: &str = "bench";
const WEBHOOK_SECRET: &str = "whsec_bench";
const CREDITS_PER_BUNDLE: i64 = 100;
const BARE: &str = "bare dropshot endpoint";
const BARE_BEHIND_EDGE: &str = "bare dropshot endpoint behind the edge";
const CHECKOUT_BODY: &str =
    r#"{"quantity":1,"success_url":"https://app.example/ok","cancel_url":"https://app.example/cancel"}"#;

/// How to run.
pub(crate) struct Options {
    /// Two seconds per run (three alternating rounds), 1,000 webhook sessions.
    pub quick: bool,
    /// CI's smoke: debug build, 1 s runs, one round, 10k rows at most.
    pub smoke: bool,
    /// An admin URL for PostgreSQL runs (a database is created and dropped); SQLite only without.
    pub postgres: Option<String>,
}

#[derive(Serialize, Default)]
struct Report {
    machine: String,
    quick: bool,
    loads: Vec<Row>,
    webhooks: Vec<WebhookRun>,
    little: Option<LittleRun>,
    /// Microseconds the edge adds to a request (see `edge_cost_us`).
    edge_cost_us: Option<f64>,
}

#[derive(Serialize, Clone)]
struct Row {
    what: String,
    database: String,
    connections: u32,
    load: Load,
    /// For a read over a seeded ledger: its throughput over the same read's with no rows seeded.
    ratio_to_empty: Option<f64>,
}

#[derive(Serialize)]
struct WebhookRun {
    database: String,
    sessions: usize,
    deliveries_per_event: u32,
    events_per_second: f64,
    exactly_once: bool,
}

#[derive(Serialize)]
struct LittleRun {
    stripe_latency_ms: u64,
    connections: u32,
    requests_per_second: f64,
    little_bound: f64,
    ratio: f64,
    p99_ms: f64,
    peak_rss_mib: f64,
}

pub(crate) fn run(options: Options) -> anyhow::Result<()> {
    wrk::ensure_installed()?;
    let root = crate::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    build(&root, !options.smoke)?;
    let bins = target.join(if options.smoke { "debug" } else { "release" });
    let work = std::env::temp_dir().join(format!("credits-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = measure(&options, &bins, &work);
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("logs kept in {}", work.display());
    }
    let mut report = result?;
    report.edge_cost_us = edge_cost_us(&report);
    print_table(&report);
    let out = target.join(if options.smoke { "bench/smoke.json" } else { "bench/last.json" });
    std::fs::create_dir_all(out.parent().expect("a parent"))?;
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("\nJSON: {}", out.display());
    let failed: Vec<&Row> = report.loads.iter().filter(|r| r.load.errors > 0).collect();
    if !failed.is_empty() || report.webhooks.iter().any(|w| !w.exactly_once) {
        for row in failed {
            eprintln!("INVALID: {} ({}) had {} errors or non-2xx answers", row.what, row.database, row.load.errors);
        }
        bail!("the benchmark had errors: its numbers are not valid");
    }
    Ok(())
}

/// Runs `credits-server admin ARGS` against `database_url`; its standard output.
pub(crate) fn admin(bins: &Path, database_url: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = std::process::Command::new(bins.join("credits-server"))
        .arg("admin")
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()?;
    if !out.status.success() {
        bail!("credits-server admin {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

pub(crate) fn build(root: &Path, release: bool) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command.args(["build", "--quiet", "-p", "credits-server", "-p", "stripe-fake", "-p", "credits-bench"]);
    if release {
        command.arg("--release");
    }
    if !command.current_dir(root).status()?.success() {
        bail!("the build failed");
    }
    Ok(())
}

fn measure(options: &Options, bins: &Path, work: &Path) -> anyhow::Result<Report> {
    let seconds = if options.smoke {
        1
    } else if options.quick {
        2
    } else {
        10
    };
    // Alternating rounds even in the quick run: its ratios to the reference points are what the
    // targets are judged on, and one round on a shared machine is mostly noise.
    let rounds = if options.smoke { 1 } else { 3 };
    let mut report = Report {
        machine: format!(
            "{} cores, wrk -t1, load generator on the same machine",
            std::thread::available_parallelism()?
        ),
        quick: options.quick,
        ..Default::default()
    };

    let bare_port = free_port()?;
    let _bare = Process::start(
        "bare",
        &bins.join("credits-bench"),
        &["bare".into(), "--bind".into(), format!("127.0.0.1:{bare_port}")],
        &[],
        &work.join("bare.log"),
    )?;
    let bare = SocketAddr::from(([127, 0, 0, 1], bare_port));
    wait_listening(bare)?;
    // The same endpoint behind the server's edge: the difference is what the edge costs.
    let edge_port = free_port()?;
    let _bare_behind_edge = Process::start(
        "bare-behind-edge",
        &bins.join("credits-bench"),
        &["bare".into(), "--behind-edge".into(), "--bind".into(), format!("127.0.0.1:{edge_port}")],
        &[],
        &work.join("bare-behind-edge.log"),
    )?;
    let bare_behind_edge = SocketAddr::from(([127, 0, 0, 1], edge_port));
    wait_listening(bare_behind_edge)?;

    let mut databases = vec![Database::sqlite(work)];
    if let Some(admin) = options.postgres.as_ref() {
        match Database::postgres(bins, admin, work)? {
            Some(db) => databases.push(db),
            None => eprintln!("PostgreSQL not reachable at {admin}: PostgreSQL runs SKIPPED"),
        }
    }
    for db in &databases {
        let stack = Stack::start(bins, work, db, 0)?;
        let checkout = |token: &str| Shape {
            method: "POST",
            path: "/api/v1/org/bench/credits/checkout",
            headers: vec![("Content-Type", "application/json".into()), ("Authorization", format!("Bearer {token}"))],
            body: Some(CHECKOUT_BODY.into()),
        };
        let targets: [(&str, SocketAddr); 4] = [
            (BARE, bare),
            (BARE_BEHIND_EDGE, bare_behind_edge),
            ("minimal checkout", stack.minimal),
            ("checkout (server)", stack.server),
        ];
        for round in 0..rounds {
            for (what, addr) in targets {
                let load = wrk::run(work, &format!("http://{addr}"), &checkout(&stack.token), 16, seconds)?;
                eprintln!("round {round}: {what} ({}): {:.0} req/s", db.name, load.requests_per_second);
                report.loads.push(Row {
                    what: what.into(),
                    database: db.name.clone(),
                    connections: 16,
                    load,
                    ratio_to_empty: None,
                });
            }
        }
        // The smoke keeps a burst of 200 deliveries: it is what stalled debug builds. The quick
        // run needs more than that to last long enough to be measured at 2,000 events/s.
        let sessions = if options.smoke {
            200
        } else if options.quick {
            1000
        } else {
            2000
        };
        report.webhooks.push(webhook_run(&stack, db, sessions)?);
        let seeds: &[(u64, &str)] = if options.smoke {
            &[(0, "0"), (10_000, "10k")]
        } else if options.quick {
            // The quick run keeps the million rows: how reads scale is what it must show, and
            // seeding them takes seconds.
            &[(0, "0"), (100_000, "100k"), (900_000, "1M")]
        } else {
            &[(0, "0"), (100_000, "100k"), (900_000, "1M")]
        };
        let mut empty: Vec<(&str, f64)> = Vec::new();
        for (rows, label) in seeds {
            if *rows > 0 {
                seed(bins, db, *rows)?;
            }
            // The deepest page: the 100 entries before the one that has 100 older ones. Even the
            // "0" ledger has the webhook run's purchases, enough for it.
            let deep = ledger_id(bins, db, 100)?;
            let reads = [
                ("balance", "/api/v1/org/bench/credits".to_string()),
                ("transactions, first page of 100", "/api/v1/org/bench/credits/transactions?limit=100".to_string()),
                (
                    "transactions, deepest page of 100 (before)",
                    format!("/api/v1/org/bench/credits/transactions?limit=100&before={deep}"),
                ),
            ];
            for (what, path) in &reads {
                let shape = Shape {
                    method: "GET",
                    path,
                    headers: vec![("Authorization", format!("Bearer {}", stack.token))],
                    body: None,
                };
                let load = wrk::run(work, &format!("http://{}", stack.server), &shape, 16, seconds)?;
                let ratio_to_empty = if *rows == 0 {
                    empty.push((what, load.requests_per_second));
                    None
                } else {
                    empty.iter().find(|(w, _)| w == what).map(|(_, rps)| load.requests_per_second / rps)
                };
                report.loads.push(Row {
                    what: format!("{what}, {label} ledger rows"),
                    database: db.name.clone(),
                    connections: 16,
                    load,
                    ratio_to_empty,
                });
            }
        }
        let rss = stack.server_process.peak_rss_mib().unwrap_or(0.0);
        report.loads.push(Row {
            what: format!("peak RSS of the server: {rss:.1} MiB"),
            database: db.name.clone(),
            connections: 0,
            load: Load { requests: 1, ..Default::default() },
            ratio_to_empty: None,
        });
    }
    // The target's 1,000 connections in the quick run too (the smoke keeps a few: debug builds).
    let connections = if options.smoke { 50 } else { 1000 };
    report.little = Some(little_run(bins, work, connections, seconds)?);
    for db in databases {
        db.drop(bins);
    }
    Ok(report)
}

/// Where a run keeps its data.
pub(crate) struct Database {
    pub(crate) name: String,
    pub(crate) server_url: String,
    minimal_url: String,
    /// For PostgreSQL: the admin URL and the database to drop afterwards.
    drop: Option<(String, String)>,
}

impl Database {
    pub(crate) fn sqlite(work: &Path) -> Database {
        Database {
            name: "sqlite".into(),
            server_url: format!("sqlite://{}/server.db", work.display()),
            minimal_url: format!("sqlite://{}/minimal.db", work.display()),
            drop: None,
        }
    }

    pub(crate) fn postgres(bins: &Path, admin: &str, work: &Path) -> anyhow::Result<Option<Database>> {
        let name = format!("credits_bench_{}", std::process::id());
        let status = std::process::Command::new(bins.join("credits-bench"))
            .args(["create-database", "--admin-url", admin, "--name", &name])
            .stderr(std::fs::File::create(work.join("pg.log"))?)
            .status()?;
        match status.code() {
            Some(0) => {}
            Some(2) => return Ok(None),
            _ => bail!("creating the PostgreSQL database failed (see the log in {})", work.display()),
        }
        let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
        let url = format!("{base}/{name}");
        Ok(Some(Database {
            name: "postgres".into(),
            server_url: url.clone(),
            minimal_url: url,
            drop: Some((admin.to_string(), name)),
        }))
    }

    pub(crate) fn drop(self, bins: &Path) {
        if let Some((admin, name)) = self.drop {
            let _ = std::process::Command::new(bins.join("credits-bench"))
                .args(["drop-database", "--admin-url", &admin, "--name", &name])
                .status();
        }
    }
}

/// The Stripe double, the server and the minimal checkout on one database.
struct Stack {
    fake: SocketAddr,
    server: SocketAddr,
    minimal: SocketAddr,
    token: String,
    server_process: Process,
    _others: Vec<Process>,
}

impl Stack {
    fn start(bins: &Path, work: &Path, db: &Database, stripe_latency_ms: u64) -> anyhow::Result<Stack> {
        let (fake_port, server_port, minimal_port) = (free_port()?, free_port()?, free_port()?);
        let fake = SocketAddr::from(([127, 0, 0, 1], fake_port));
        let server = SocketAddr::from(([127, 0, 0, 1], server_port));
        let minimal = SocketAddr::from(([127, 0, 0, 1], minimal_port));
        let webhook = format!("http://{server}/api/v1/webhooks/stripe={WEBHOOK_SECRET}");
        let fake_process = Process::start(
            "stripe-fake",
            &bins.join("stripe-fake"),
            &[
                "--port".into(),
                fake_port.to_string(),
                "--webhook".into(),
                webhook,
                "--delivery-copies".into(),
                "2".into(),
                "--latency-ms".into(),
                stripe_latency_ms.to_string(),
            ],
            &[("RUST_LOG", "warn".into())],
            &work.join(format!("fake-{}.log", db.name)),
        )?;
        wait_ready(fake, "/_fake/events", "the Stripe double")?;
        let admin = |args: &[&str]| admin(bins, &db.server_url, args);
        admin(&["create-org", ORG])?;
        let token = admin(&["create-token", "--org", ORG, "--email", "bench@example.com", "--role", "owner"])?;
        let token = token.lines().last().context("the token")?.trim().to_string();
        let base = format!("http://{fake}/");
        let server_process = Process::start(
            "credits-server",
            &bins.join("credits-server"),
            &[
                "serve".into(),
                "--bind".into(),
                server.to_string(),
                "--stripe-secret-key".into(),
                "sk_test_bench".into(),
                "--stripe-api-base".into(),
                base.clone(),
                "--stripe-webhook-secret".into(),
                WEBHOOK_SECRET.into(),
                "--bundle-unit-amount".into(),
                "500".into(),
                "--credits-per-bundle".into(),
                CREDITS_PER_BUNDLE.to_string(),
                "--rate-limit-per-minute".into(),
                "1000000000".into(),
                // The load is the point: the edge's caps and per-address limit must not refuse it.
                "--rate-limit-per-address-per-minute".into(),
                "1000000000".into(),
                "--max-connections".into(),
                "100000".into(),
                "--max-in-flight".into(),
                "100000".into(),
                "--allowed-redirect-origins".into(),
                "https://app.example".into(),
                "--log-level".into(),
                "error".into(),
            ],
            &[("DATABASE_URL", db.server_url.clone())],
            &work.join(format!("server-{}.log", db.name)),
        )?;
        wait_ready(server, "/openapi.json", "the server")?;
        let minimal_process = Process::start(
            "minimal",
            &bins.join("credits-bench"),
            &[
                "minimal".into(),
                "--bind".into(),
                minimal.to_string(),
                "--database-url".into(),
                db.minimal_url.clone(),
                "--stripe-api-base".into(),
                base,
                "--token".into(),
                token.clone(),
                "--org".into(),
                ORG.into(),
            ],
            &[],
            &work.join(format!("minimal-{}.log", db.name)),
        )?;
        wait_listening(minimal)?;
        Ok(Stack { fake, server, minimal, token, server_process, _others: vec![fake_process, minimal_process] })
    }

    fn balance(&self) -> anyhow::Result<i64> {
        let auth = format!("Bearer {}", self.token);
        let (status, body) = http(self.server, "GET", "/api/v1/org/bench/credits", &[("Authorization", &auth)], None)?;
        if status != 200 {
            bail!("balance: {status} {body}");
        }
        let value: serde_json::Value = serde_json::from_str(&body)?;
        value["balance"].as_i64().context("a balance")
    }
}

fn wait_listening(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listens on {addr}")
}

/// The id of the bench org's entry with `offset` older entries: a `before` cursor.
fn ledger_id(bins: &Path, db: &Database, offset: u64) -> anyhow::Result<String> {
    let out = std::process::Command::new(bins.join("credits-bench"))
        .args(["ledger-id", "--database-url", &db.server_url, "--org", ORG, "--offset", &offset.to_string()])
        .output()?;
    if !out.status.success() {
        bail!("finding a ledger entry deep in the history failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn seed(bins: &Path, db: &Database, rows: u64) -> anyhow::Result<()> {
    let status = std::process::Command::new(bins.join("credits-bench"))
        .args(["seed-ledger", "--database-url", &db.server_url, "--org", ORG, "--rows", &rows.to_string()])
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("seeding {rows} ledger rows failed");
    }
    Ok(())
}

/// Paid sessions whose `checkout.session.completed` events are held back, then delivered twice
/// each at once: events per second until every purchase is credited, and exactly once.
fn webhook_run(stack: &Stack, db: &Database, sessions: usize) -> anyhow::Result<WebhookRun> {
    let auth = format!("Bearer {}", stack.token);
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let mut ids = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        let (status, body) =
            http(stack.server, "POST", "/api/v1/org/bench/credits/checkout", &headers, Some(CHECKOUT_BODY))?;
        if status != 200 {
            bail!("checkout for the webhook run: {status} {body}");
        }
        let value: serde_json::Value = serde_json::from_str(&body)?;
        ids.push(value["session_id"].as_str().context("a session id")?.to_string());
    }
    let before = stack.balance()?;
    control(stack.fake, "/_fake/webhooks/pause")?;
    for id in &ids {
        control(stack.fake, &format!("/_fake/checkout/sessions/{id}/complete"))?;
    }
    let expected = before + CREDITS_PER_BUNDLE * sessions as i64;
    let started = Instant::now();
    control(stack.fake, "/_fake/webhooks/resume")?;
    while stack.balance()? < expected {
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the webhook run did not credit every purchase within 5 minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    // The duplicates that are still arriving must change nothing.
    std::thread::sleep(Duration::from_secs(2));
    let exactly_once = stack.balance()? == expected;
    Ok(WebhookRun {
        database: db.name.clone(),
        sessions,
        deliveries_per_event: 2,
        events_per_second: sessions as f64 / elapsed.as_secs_f64(),
        exactly_once,
    })
}

fn control(fake: SocketAddr, path: &str) -> anyhow::Result<()> {
    let (status, body) = http(fake, "POST", path, &[], None)?;
    if !(200..300).contains(&status) {
        bail!("{path}: {status} {body}");
    }
    Ok(())
}

/// Checkout with a slow Stripe and many connections: how close throughput comes to what
/// Little's law allows (connections / Stripe's latency).
fn little_run(bins: &Path, work: &Path, connections: u32, seconds: u32) -> anyhow::Result<LittleRun> {
    let latency_ms = 300;
    let db = Database { name: "sqlite-latency".into(), ..Database::sqlite(&work.join("latency")) };
    std::fs::create_dir_all(work.join("latency"))?;
    let stack = Stack::start(bins, work, &db, latency_ms)?;
    let shape = Shape {
        method: "POST",
        path: "/api/v1/org/bench/credits/checkout",
        headers: vec![
            ("Content-Type", "application/json".into()),
            ("Authorization", format!("Bearer {}", stack.token)),
        ],
        body: Some(CHECKOUT_BODY.into()),
    };
    let load = wrk::run(work, &format!("http://{}", stack.server), &shape, connections, seconds.max(2))?;
    if load.errors > 0 {
        bail!("the slow-Stripe run had {} errors or non-2xx answers", load.errors);
    }
    let bound = f64::from(connections) / (latency_ms as f64 / 1000.0);
    Ok(LittleRun {
        stripe_latency_ms: latency_ms,
        connections,
        requests_per_second: load.requests_per_second,
        little_bound: bound,
        ratio: load.requests_per_second / bound,
        p99_ms: load.p99_ms,
        peak_rss_mib: stack.server_process.peak_rss_mib().unwrap_or(0.0),
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn print_table(report: &Report) {
    println!("\n{}{}", report.machine, if report.quick { " (quick)" } else { "" });
    println!(
        "{:<62} {:>9} {:>11} {:>8} {:>8} {:>8} {:>7} {:>9} {:>10} {:>8}",
        "what", "database", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors", "/ bare", "/ minimal", "/ empty"
    );
    let mut seen: Vec<(String, String)> = Vec::new();
    for row in &report.loads {
        let key = (row.what.clone(), row.database.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        if row.connections == 0 {
            println!("{:<62} {:>9}", row.what, row.database);
            continue;
        }
        let same: Vec<&Row> =
            report.loads.iter().filter(|r| r.what == row.what && r.database == row.database).collect();
        let med = |f: fn(&Load) -> f64| median(&mut same.iter().map(|r| f(&r.load)).collect::<Vec<_>>());
        let rps = med(|l| l.requests_per_second);
        let of = |what: &str| {
            let base: Vec<f64> = report
                .loads
                .iter()
                .filter(|r| r.what == what && (r.database == row.database || what.starts_with("bare")))
                .map(|r| r.load.requests_per_second)
                .collect();
            let base = median(&mut base.clone());
            if base > 0.0 { format!("{:.3}", rps / base) } else { "-".into() }
        };
        let errors: u64 = same.iter().map(|r| r.load.errors).sum();
        let to_empty = row.ratio_to_empty.map_or("-".to_string(), |r| format!("{r:.3}"));
        println!(
            "{:<62} {:>9} {:>11.0} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>9} {:>10} {:>8}",
            row.what,
            row.database,
            rps,
            med(|l| l.p50_ms),
            med(|l| l.p90_ms),
            med(|l| l.p99_ms),
            errors,
            of(BARE),
            of("minimal checkout"),
            to_empty,
        );
    }
    print_edge_cost(report);
    for run in &report.webhooks {
        println!(
            "webhook fulfilment ({}): {} paid sessions, each event delivered {}x: {:.0} events/s, exactly once: {}",
            run.database, run.sessions, run.deliveries_per_event, run.events_per_second, run.exactly_once
        );
    }
    if let Some(run) = &report.little {
        println!(
            "checkout with a {} ms Stripe, {} connections: {:.0} req/s of the {:.0} Little's law allows ({:.2}), p99 {:.0} ms, peak RSS {:.1} MiB",
            run.stripe_latency_ms,
            run.connections,
            run.requests_per_second,
            run.little_bound,
            run.ratio,
            run.p99_ms,
            run.peak_rss_mib
        );
    }
}

/// The median throughput of `what` (on `database`, or on any).
fn median_rps(report: &Report, what: &str, database: Option<&str>) -> f64 {
    let mut values: Vec<f64> = report
        .loads
        .iter()
        .filter(|r| r.what == what && database.is_none_or(|d| r.database == d))
        .map(|r| r.load.requests_per_second)
        .collect();
    median(&mut values)
}

/// Microseconds the edge adds to a request: the bare endpoint's time per request behind the edge
/// less its own (medians at 16 connections).
fn edge_cost_us(report: &Report) -> Option<f64> {
    let (bare, behind_edge) = (median_rps(report, BARE, None), median_rps(report, BARE_BEHIND_EDGE, None));
    (bare > 0.0 && behind_edge > 0.0).then(|| (1.0 / behind_edge - 1.0 / bare) * 1e6)
}

/// What the edge adds to a request: the time per request of the bare endpoint behind the edge
/// less the bare endpoint's own (at 16 connections, medians), and that time's share of a
/// balance read's and of a checkout's on each database.
fn print_edge_cost(report: &Report) {
    let rps = |what: &str, database: Option<&str>| median_rps(report, what, database);
    let Some(edge_us) = report.edge_cost_us else { return };
    let edge_seconds = edge_us / 1e6;
    let mut shares = Vec::new();
    for database in ["sqlite", "postgres"] {
        for (what, name) in [("balance, 0 ledger rows", "balance read"), ("checkout (server)", "checkout")] {
            let served = rps(what, Some(database));
            if served > 0.0 {
                shares.push(format!("{:.0}% of a {name} on {database}", 100.0 * edge_seconds * served));
            }
        }
    }
    println!(
        "the edge costs {:.1} us a request (bare behind the edge vs bare): {}",
        edge_seconds * 1e6,
        shares.join(", ")
    );
}
