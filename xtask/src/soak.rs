//! `cargo xtask soak [--minutes N] [--postgres URL]`: hours of production compressed into
//! minutes, to find what only shows over time (memory or descriptors that leak, a balance that
//! drifts from the ledger, money counted twice across instances). It builds release, starts the
//! Stripe double and two server instances on one database (a SQLite file, or a PostgreSQL database
//! it creates and drops), and drives mixed load from worker threads: checkouts with idempotency
//! keys (some replayed on the other instance), payments on the double, every event delivered
//! twice to each instance, balance and transaction reads, refunds, disputes opened and closed,
//! and, now and then, an injected Stripe fault whose answer (502 or 504) is counted on its own.
//! Every 30 s it prints each server's RSS and open descriptors. At the end it checks: no answer
//! but the expected ones, RSS within 10% of its value after the first minute, descriptors back to
//! their count then, and each org's balance equal to what Stripe's own lists say it bought, minus
//! refunds and disputes, and the stored balance equal to the ledger's sum. A failed check makes
//! the command fail.
//!
//! Not part of CI: it runs for minutes and takes the machine.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::bench::process::{Process, free_port, http, wait_ready};
use crate::bench::{Database, build};

const ORGS: [&str; 3] = ["soak-a", "soak-b", "soak-c"];
const WEBHOOK_SECRET: &str = "whsec_soak";
const STRIPE_KEY: &str = "sk_test_soak";
const CREDITS_PER_BUNDLE: i64 = 100;
const UNIT_AMOUNT: i64 = 500;
/// Stripe's deadline given to the servers; the injected hang outlasts it.
const STRIPE_TIMEOUT_SECS: u64 = 3;
const WORKERS: u64 = 4;
/// Each worker rests this long between operations: the soak is a steady load, not a flood.
const PAUSE: Duration = Duration::from_millis(10);
const SAMPLE_EVERY: Duration = Duration::from_secs(30);
const FAULT_EVERY: Duration = Duration::from_secs(15);
/// Memory may grow this much (a fraction) after the first minute.
const RSS_TOLERANCE: f64 = 0.10;

/// How to run.
pub(crate) struct Options {
    pub minutes: u64,
    /// An admin URL: the run uses a database made there (and dropped); a SQLite file without.
    pub postgres: Option<String>,
}

pub(crate) fn run(options: Options) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    build(&root, true)?;
    let bins = target.join("release");
    let work = std::env::temp_dir().join(format!("credits-soak-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let db = match options.postgres.as_deref() {
        None => Database::sqlite(&work),
        Some(admin) => match Database::postgres(&bins, admin, &work)? {
            Some(db) => db,
            None => bail!("PostgreSQL is not reachable at {admin}"),
        },
    };
    let result = soak(&options, &bins, &work, &db);
    db.drop(&bins);
    match &result {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&work);
        }
        Err(_) => eprintln!("logs kept in {}", work.display()),
    }
    result
}

/// A paid purchase's charge, and what the soak did to it (one refund or one dispute at most,
/// as Stripe refuses to refund a disputed charge).
struct Charge {
    id: String,
    state: ChargeState,
}

enum ChargeState {
    Untouched,
    Refunded,
    /// A dispute is being opened: no id yet.
    Disputing,
    Disputed(String),
    DisputeClosed,
}

/// What the workers and the main thread share.
struct Shared {
    servers: [SocketAddr; 2],
    fake: SocketAddr,
    /// (org slug, owner token)
    tokens: Vec<(String, String)>,
    charges: Mutex<Vec<Charge>>,
    /// Answers as expected, per operation.
    done: Mutex<BTreeMap<&'static str, u64>>,
    /// Injected faults answered as expected, per fault.
    faults: Mutex<BTreeMap<&'static str, u64>>,
    /// Every other answer, described.
    unexpected: Mutex<Vec<String>>,
    /// Workers hold it shared; a fault is injected under it held exclusively, so that the
    /// request meant to meet the fault is the only one reaching Stripe.
    gate: RwLock<()>,
    stop: AtomicBool,
    next_key: AtomicU64,
}

impl Shared {
    fn ok(&self, what: &'static str) {
        *self.done.lock().unwrap().entry(what).or_default() += 1;
    }

    fn unexpected(&self, what: &str, detail: String) {
        let detail: String = detail.chars().take(300).collect();
        self.unexpected.lock().unwrap().push(format!("{what}: {detail}"));
    }

    /// Records the answer; its body when its status is `expected`.
    fn expect(&self, what: &'static str, answer: anyhow::Result<(u16, String)>, expected: u16) -> Option<String> {
        match answer {
            Ok((status, body)) if status == expected => {
                self.ok(what);
                Some(body)
            }
            Ok((status, body)) => {
                self.unexpected(what, format!("{status} {body}"));
                None
            }
            Err(error) => {
                self.unexpected(what, format!("{error:#}"));
                None
            }
        }
    }

    fn key(&self) -> String {
        format!("soak-{}-{}", std::process::id(), self.next_key.fetch_add(1, Ordering::Relaxed))
    }

    fn checkout(&self, instance: usize, org: usize, key: &str, bundles: u64) -> anyhow::Result<(u16, String)> {
        let (slug, token) = &self.tokens[org];
        let auth = format!("Bearer {token}");
        let body = format!(
            r#"{{"quantity":{bundles},"success_url":"https://app.example/ok","cancel_url":"https://app.example/cancel"}}"#
        );
        http(
            self.servers[instance],
            "POST",
            &format!("/api/v1/org/{slug}/credits/checkout"),
            &[("Authorization", &auth), ("Content-Type", "application/json"), ("Idempotency-Key", key)],
            Some(&body),
        )
    }

    fn read(&self, instance: usize, org: usize, path: &str) -> anyhow::Result<(u16, String)> {
        let (slug, token) = &self.tokens[org];
        let auth = format!("Bearer {token}");
        http(
            self.servers[instance],
            "GET",
            &format!("/api/v1/org/{slug}/credits{path}"),
            &[("Authorization", &auth)],
            None,
        )
    }

    fn stripe(&self, method: &str, path: &str, form: Option<&str>) -> anyhow::Result<(u16, String)> {
        let auth = format!("Bearer {STRIPE_KEY}");
        let mut headers = vec![("Authorization", auth.as_str())];
        if form.is_some() {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        http(self.fake, method, path, &headers, form)
    }

    fn control(&self, path: &str) -> anyhow::Result<(u16, String)> {
        http(self.fake, "POST", path, &[], None)
    }
}

/// A small deterministic generator: the mix needs variety, not unpredictability.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn soak(options: &Options, bins: &Path, work: &Path, db: &Database) -> anyhow::Result<()> {
    let servers = [SocketAddr::from(([127, 0, 0, 1], free_port()?)), SocketAddr::from(([127, 0, 0, 1], free_port()?))];
    let fake = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let mut fake_args = vec!["--port".to_string(), fake.port().to_string(), "--delivery-copies".into(), "2".into()];
    for server in servers {
        fake_args.push("--webhook".into());
        fake_args.push(format!("http://{server}/api/v1/webhooks/stripe={WEBHOOK_SECRET}"));
    }
    let _fake_process = Process::start(
        "stripe-fake",
        &bins.join("stripe-fake"),
        &fake_args,
        &[("RUST_LOG", "warn".into())],
        &work.join("fake.log"),
    )?;
    wait_ready(fake, "/_fake/faults", "the Stripe double")?;

    let admin = |args: &[&str]| crate::bench::admin(bins, &db.server_url, args);
    let mut tokens = Vec::new();
    for org in ORGS {
        admin(&["create-org", org])?;
        let out = admin(&["create-token", "--org", org, "--email", "owner@soak.example", "--role", "owner"])?;
        tokens.push((org.to_string(), out.lines().last().context("the token")?.trim().to_string()));
    }

    let mut server_processes = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let args: Vec<String> = [
            "serve",
            "--bind",
            &server.to_string(),
            "--stripe-secret-key",
            STRIPE_KEY,
            "--stripe-api-base",
            &format!("http://{fake}/"),
            "--stripe-webhook-secret",
            WEBHOOK_SECRET,
            "--stripe-timeout-secs",
            &STRIPE_TIMEOUT_SECS.to_string(),
            "--bundle-unit-amount",
            &UNIT_AMOUNT.to_string(),
            "--credits-per-bundle",
            &CREDITS_PER_BUNDLE.to_string(),
            // One driver address and three tokens make all the load: no limit may refuse it.
            "--rate-limit-per-minute",
            "1000000000",
            "--rate-limit-per-address-per-minute",
            "1000000000",
            "--allowed-redirect-origins",
            "https://app.example",
            "--log-level",
            "warn",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let process = Process::start(
            "credits-server",
            &bins.join("credits-server"),
            &args,
            &[("DATABASE_URL", db.server_url.clone())],
            &work.join(format!("server-{i}.log")),
        )?;
        wait_ready(*server, "/readyz", "a server")?;
        server_processes.push(process);
    }
    let pids = [server_processes[0].id(), server_processes[1].id()];

    let shared = Shared {
        servers,
        fake,
        tokens,
        charges: Mutex::new(Vec::new()),
        done: Mutex::default(),
        faults: Mutex::default(),
        unexpected: Mutex::default(),
        gate: RwLock::new(()),
        stop: AtomicBool::new(false),
        next_key: AtomicU64::new(0),
    };
    let duration = Duration::from_secs(options.minutes * 60);
    let started = Instant::now();
    println!(
        "soak: {} minute(s), {} database, 2 instances, {WORKERS} workers; samples every {}s",
        options.minutes,
        db.name,
        SAMPLE_EVERY.as_secs()
    );
    println!(
        "{:>6} {:>12} {:>8} {:>12} {:>8} {:>10} {:>10} {:>10}",
        "t (s)", "RSS A MiB", "fds A", "RSS B MiB", "fds B", "requests", "faults", "unexpected"
    );
    let samples = std::thread::scope(|scope| {
        for worker in 0..WORKERS {
            let shared = &shared;
            scope.spawn(move || drive(shared, worker));
        }
        let samples = supervise(&shared, pids, duration);
        shared.stop.store(true, Ordering::SeqCst);
        samples
    });

    // Let the last deliveries land, then compare.
    let settling = Instant::now();
    let ledger = loop {
        let ledger = check_ledger(&shared, bins, db)?;
        if ledger.iter().all(Org::consistent) || settling.elapsed() > Duration::from_secs(120) {
            break ledger;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    // Connections of the load close; descriptors are counted when they have.
    std::thread::sleep(Duration::from_secs(5));
    let end = sample(pids, started.elapsed().as_secs());
    report(&shared, &samples, &end, &ledger)
}

/// One worker: operations picked at random from the mix until told to stop.
fn drive(shared: &Shared, worker: u64) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (worker + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
    while !shared.stop.load(Ordering::SeqCst) {
        {
            let _shared = shared.gate.read().unwrap();
            let instance = rng.below(2) as usize;
            let org = rng.below(ORGS.len() as u64) as usize;
            match rng.below(20) {
                0..=5 => purchase(shared, &mut rng, instance, org),
                6 => replayed_purchase(shared, instance, org),
                7..=10 => {
                    shared.expect("balance", shared.read(instance, org, ""), 200);
                }
                11..=13 => {
                    shared.expect("transactions", shared.read(instance, org, "/transactions?limit=100"), 200);
                }
                14 | 15 => refund(shared, &mut rng),
                16 | 17 => open_dispute(shared, &mut rng),
                _ => close_dispute(shared, &mut rng),
            }
        }
        std::thread::sleep(PAUSE);
    }
}

/// A checkout, paid on the double four times in five (the rest stay open, as abandoned carts).
fn purchase(shared: &Shared, rng: &mut Rng, instance: usize, org: usize) {
    let bundles = rng.below(3) + 1;
    let Some(body) = shared.expect("checkout", shared.checkout(instance, org, &shared.key(), bundles), 200) else {
        return;
    };
    if rng.below(5) == 0 {
        return;
    }
    let Some(session) = session_id(shared, &body) else { return };
    let Some(paid) =
        shared.expect("payment", shared.control(&format!("/_fake/checkout/sessions/{session}/complete")), 200)
    else {
        return;
    };
    let Some(intent) = field(shared, &paid, "payment_intent") else { return };
    let Some(intent) =
        shared.expect("payment intent read", shared.stripe("GET", &format!("/v1/payment_intents/{intent}"), None), 200)
    else {
        return;
    };
    if let Some(charge) = field(shared, &intent, "latest_charge") {
        shared.charges.lock().unwrap().push(Charge { id: charge, state: ChargeState::Untouched });
    }
}

/// The same key on both instances: one session.
fn replayed_purchase(shared: &Shared, instance: usize, org: usize) {
    let key = shared.key();
    let Some(first) = shared.expect("checkout", shared.checkout(instance, org, &key, 1), 200) else { return };
    let Some(again) = shared.expect("checkout replayed", shared.checkout(1 - instance, org, &key, 1), 200) else {
        return;
    };
    if session_id(shared, &first) != session_id(shared, &again) {
        shared.unexpected("checkout replayed", format!("another session: {first} then {again}"));
    }
}

/// Refunds an untouched charge, in full or half of it.
fn refund(shared: &Shared, rng: &mut Rng) {
    let Some(charge) = take_charge(shared, rng, |s| matches!(s, ChargeState::Untouched), ChargeState::Refunded) else {
        return;
    };
    let form = if rng.below(2) == 0 {
        format!("charge={charge}")
    } else {
        format!("charge={charge}&amount={}", UNIT_AMOUNT / 2)
    };
    shared.expect("refund", shared.stripe("POST", "/v1/refunds", Some(&form)), 200);
}

fn open_dispute(shared: &Shared, rng: &mut Rng) {
    let Some(charge) = take_charge(shared, rng, |s| matches!(s, ChargeState::Untouched), ChargeState::Disputing) else {
        return;
    };
    let Some(dispute) =
        shared.expect("dispute opened", shared.control(&format!("/_fake/charges/{charge}/dispute")), 200)
    else {
        return;
    };
    if let Some(id) = field(shared, &dispute, "id") {
        let mut charges = shared.charges.lock().unwrap();
        if let Some(c) = charges.iter_mut().find(|c| c.id == charge) {
            c.state = ChargeState::Disputed(id);
        }
    }
}

fn close_dispute(shared: &Shared, rng: &mut Rng) {
    let dispute = {
        let mut charges = shared.charges.lock().unwrap();
        let open: Vec<usize> =
            (0..charges.len()).filter(|&i| matches!(&charges[i].state, ChargeState::Disputed(_))).collect();
        if open.is_empty() {
            return;
        }
        let charge = &mut charges[open[rng.below(open.len() as u64) as usize]];
        match std::mem::replace(&mut charge.state, ChargeState::DisputeClosed) {
            ChargeState::Disputed(id) => id,
            _ => return,
        }
    };
    let outcome = if rng.below(2) == 0 { "won" } else { "lost" };
    shared.expect("dispute closed", shared.control(&format!("/_fake/disputes/{dispute}/close?outcome={outcome}")), 200);
}

/// A charge in a state `wanted` accepts, moved to `then`; its id.
fn take_charge(shared: &Shared, rng: &mut Rng, wanted: fn(&ChargeState) -> bool, then: ChargeState) -> Option<String> {
    let mut charges = shared.charges.lock().unwrap();
    let candidates: Vec<usize> = (0..charges.len()).filter(|&i| wanted(&charges[i].state)).collect();
    if candidates.is_empty() {
        return None;
    }
    let charge = &mut charges[candidates[rng.below(candidates.len() as u64) as usize]];
    charge.state = then;
    Some(charge.id.clone())
}

fn session_id(shared: &Shared, body: &str) -> Option<String> {
    field(shared, body, "session_id")
}

fn field(shared: &Shared, body: &str, name: &str) -> Option<String> {
    let value = serde_json::from_str::<Value>(body).ok().and_then(|v| v[name].as_str().map(str::to_string));
    if value.is_none() {
        shared.unexpected("reading an answer", format!("no {name} in {body}"));
    }
    value
}

/// RSS (MiB) and open descriptors of both servers at `seconds`.
struct Sample {
    seconds: u64,
    rss_mib: [f64; 2],
    fds: [usize; 2],
}

fn sample(pids: [u32; 2], seconds: u64) -> Sample {
    let rss = |pid: u32| -> f64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            })
            .map_or(0.0, |kib| kib / 1024.0)
    };
    let fds = |pid: u32| std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    Sample { seconds, rss_mib: [rss(pids[0]), rss(pids[1])], fds: [fds(pids[0]), fds(pids[1])] }
}

fn print_sample(shared: &Shared, s: &Sample) {
    let requests: u64 = shared.done.lock().unwrap().values().sum();
    let faults: u64 = shared.faults.lock().unwrap().values().sum();
    let unexpected = shared.unexpected.lock().unwrap().len();
    println!(
        "{:>6} {:>12.1} {:>8} {:>12.1} {:>8} {:>10} {:>10} {:>10}",
        s.seconds, s.rss_mib[0], s.fds[0], s.rss_mib[1], s.fds[1], requests, faults, unexpected
    );
}

/// The main thread during the load: samples every 30 s, a fault every 15 s.
fn supervise(shared: &Shared, pids: [u32; 2], duration: Duration) -> Vec<Sample> {
    let started = Instant::now();
    let mut samples = Vec::new();
    let (mut next_sample, mut next_fault, mut fault) = (SAMPLE_EVERY, FAULT_EVERY, 0);
    while started.elapsed() < duration {
        std::thread::sleep(Duration::from_millis(200));
        if started.elapsed() >= next_sample {
            let s = sample(pids, next_sample.as_secs());
            print_sample(shared, &s);
            samples.push(s);
            next_sample += SAMPLE_EVERY;
        }
        if started.elapsed() >= next_fault {
            inject(shared, fault);
            fault += 1;
            next_fault += FAULT_EVERY;
        }
    }
    samples
}

/// One injected Stripe fault met by one checkout, alone at Stripe: webhook deliveries are paused
/// (their handling reads Stripe) and the workers wait.
fn inject(shared: &Shared, n: usize) {
    const FAULTS: [(&str, &str, u16); 4] = [
        ("server_error -> 502", r#"{"kind":"server_error"}"#, 502),
        (
            "card_declined -> 502",
            r#"{"kind":"stripe_error","status":402,"type":"card_error","code":"card_declined","message":"Your card was declined."}"#,
            502,
        ),
        // Three: the server retries an unreachable Stripe up to three times.
        ("drop_connection x3 -> 502", r#"{"kind":"drop_connection","times":3}"#, 502),
        ("hang past the deadline -> 504", r#"{"kind":"hang","ms":5000}"#, 504),
    ];
    let (label, fault, expected) = FAULTS[n % FAULTS.len()];
    let _alone = shared.gate.write().unwrap();
    if let Err(e) = shared.control("/_fake/webhooks/pause") {
        shared.unexpected("pausing webhooks", format!("{e:#}"));
        return;
    }
    // Deliveries already being handled finish their Stripe reads.
    std::thread::sleep(Duration::from_millis(500));
    match http(shared.fake, "POST", "/_fake/faults", &[("Content-Type", "application/json")], Some(fault)) {
        Ok((200..=299, _)) => match shared.checkout(n % 2, n % ORGS.len(), &shared.key(), 1) {
            Ok((status, _)) if status == expected => *shared.faults.lock().unwrap().entry(label).or_default() += 1,
            Ok((status, body)) => shared.unexpected(label, format!("{status} {body}")),
            Err(e) => shared.unexpected(label, format!("{e:#}")),
        },
        other => shared.unexpected("injecting a fault", format!("{other:?}")),
    }
    let _ = http(shared.fake, "DELETE", "/_fake/faults", &[], None);
    if let Err(e) = shared.control("/_fake/webhooks/resume") {
        shared.unexpected("resuming webhooks", format!("{e:#}"));
    }
}

/// One org at the end: what Stripe says it is owed, what each instance answers, what is stored.
struct Org {
    slug: String,
    from_stripe: i64,
    answered: [i64; 2],
    stored: i64,
    ledger_sum: i64,
}

impl Org {
    fn consistent(&self) -> bool {
        self.answered.iter().all(|&b| b == self.from_stripe)
            && self.stored == self.from_stripe
            && self.stored == self.ledger_sum
    }
}

/// Every object of a Stripe list, page by page.
fn stripe_list(shared: &Shared, path: &str) -> anyhow::Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page_path = match &after {
            Some(id) => format!("{path}&starting_after={id}"),
            None => path.to_string(),
        };
        let (status, body) = shared.stripe("GET", &page_path, None)?;
        if status != 200 {
            bail!("GET {page_path}: {status} {body}");
        }
        let page: Value = serde_json::from_str(&body)?;
        let data = page["data"].as_array().context("a list")?;
        all.extend(data.iter().cloned());
        match (page["has_more"].as_bool(), data.last().and_then(|o| o["id"].as_str())) {
            (Some(true), Some(last)) => after = Some(last.to_string()),
            _ => return Ok(all),
        }
    }
}

/// Each org's balance as Stripe's lists imply it (docs/money.md: the credits of each paid
/// session, less `floor(granted × refunded / paid)` for its refunds and the same share of each
/// dispute not won), beside what both instances answer and what the database stores.
fn check_ledger(shared: &Shared, bins: &Path, db: &Database) -> anyhow::Result<Vec<Org>> {
    let sessions = stripe_list(shared, "/v1/checkout/sessions?limit=100&status=complete&expand%5B%5D=data.line_items")?;
    let refunds = stripe_list(shared, "/v1/refunds?limit=100")?;
    let disputes = stripe_list(shared, "/v1/disputes?limit=100")?;
    // By payment intent, so that the end check is linear in the number of objects: a 10-minute
    // run leaves tens of thousands of each.
    let mut refunded_by_intent: HashMap<&str, i64> = HashMap::new();
    for refund in refunds.iter().filter(|r| r["status"] == "succeeded") {
        let intent = refund["payment_intent"].as_str().context("a refund's payment intent")?;
        *refunded_by_intent.entry(intent).or_default() += refund["amount"].as_i64().context("an amount")?;
    }
    let mut disputes_by_intent: HashMap<&str, Vec<i64>> = HashMap::new();
    for dispute in disputes.iter().filter(|d| d["status"] != "won") {
        let intent = dispute["payment_intent"].as_str().context("a dispute's payment intent")?;
        disputes_by_intent.entry(intent).or_default().push(dispute["amount"].as_i64().context("an amount")?);
    }
    let mut owed: BTreeMap<String, i64> = ORGS.iter().map(|o| (o.to_string(), 0)).collect();
    for session in sessions.iter().filter(|s| s["payment_status"] == "paid") {
        let org = session["metadata"]["org"].as_str().context("the session's org")?;
        let intent = session["payment_intent"].as_str().context("a payment intent")?;
        let paid = session["amount_total"].as_i64().context("an amount")?;
        let items = session["line_items"]["data"].as_array().context("line items")?;
        let granted: i64 = items.iter().filter_map(|i| i["quantity"].as_i64()).sum::<i64>() * CREDITS_PER_BUNDLE;
        let refunded = refunded_by_intent.get(intent).copied().unwrap_or(0);
        let held: i64 =
            disputes_by_intent.get(intent).into_iter().flatten().map(|amount| granted * amount / paid).sum();
        *owed.entry(org.to_string()).or_default() += granted - granted * refunded / paid - held;
    }
    let out = std::process::Command::new(bins.join("credits-bench"))
        .args(["ledger-totals", "--database-url", &db.server_url])
        .output()?;
    if !out.status.success() {
        bail!("credits-bench ledger-totals: {}", String::from_utf8_lossy(&out.stderr));
    }
    let totals: BTreeMap<String, (i64, i64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut parts = line.split('\t');
            Some((parts.next()?.to_string(), (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?)))
        })
        .collect();
    let mut orgs = Vec::new();
    for (i, org) in ORGS.iter().enumerate() {
        let mut answered = [0; 2];
        for (instance, balance) in answered.iter_mut().enumerate() {
            let (status, body) = shared.read(instance, i, "")?;
            if status != 200 {
                bail!("the balance of {org}: {status} {body}");
            }
            *balance = serde_json::from_str::<Value>(&body)?["balance"].as_i64().context("a balance")?;
        }
        let (stored, ledger_sum) = totals.get(*org).copied().context("the org's totals")?;
        orgs.push(Org { slug: org.to_string(), from_stripe: owed[*org], answered, stored, ledger_sum });
    }
    Ok(orgs)
}

fn report(shared: &Shared, samples: &[Sample], end: &Sample, ledger: &[Org]) -> anyhow::Result<()> {
    print_sample(shared, end);
    let mut failures = Vec::new();
    println!("\nanswers as expected:");
    for (what, n) in shared.done.lock().unwrap().iter() {
        println!("  {what:<24} {n}");
    }
    println!("injected Stripe faults, answered as expected:");
    for (what, n) in shared.faults.lock().unwrap().iter() {
        println!("  {what:<32} {n}");
    }
    let unexpected = shared.unexpected.lock().unwrap();
    println!("unexpected answers: {}", unexpected.len());
    for line in unexpected.iter().take(20) {
        println!("  {line}");
    }
    if !unexpected.is_empty() {
        failures.push(format!("{} unexpected answers", unexpected.len()));
    }

    // The first sample a minute in (or the last before the end, for a shorter run).
    let warm = samples.iter().find(|s| s.seconds >= 60).or(samples.last()).context("no sample was taken")?;
    println!(
        "\n{:<10} {:>16} {:>12} {:>10} {:>16} {:>10}",
        "instance", "RSS at 1 min", "RSS at end", "growth", "fds at 1 min", "fds at end"
    );
    for i in 0..2 {
        let growth = end.rss_mib[i] / warm.rss_mib[i] - 1.0;
        println!(
            "{:<10} {:>12.1} MiB {:>8.1} MiB {:>9.1}% {:>16} {:>10}",
            ["A", "B"][i],
            warm.rss_mib[i],
            end.rss_mib[i],
            growth * 100.0,
            warm.fds[i],
            end.fds[i]
        );
        if growth > RSS_TOLERANCE {
            failures.push(format!("instance {} grew {:.1}% after the first minute", ["A", "B"][i], growth * 100.0));
        }
        if end.fds[i] > warm.fds[i] {
            failures.push(format!(
                "instance {} holds {} descriptors, {} after warm-up",
                ["A", "B"][i],
                end.fds[i],
                warm.fds[i]
            ));
        }
    }

    println!(
        "\n{:<8} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "org", "from Stripe", "answer A", "answer B", "stored", "ledger sum"
    );
    for org in ledger {
        println!(
            "{:<8} {:>12} {:>12} {:>12} {:>12} {:>12}",
            org.slug, org.from_stripe, org.answered[0], org.answered[1], org.stored, org.ledger_sum
        );
        if !org.consistent() {
            failures.push(format!("{}'s balance does not match Stripe and its ledger", org.slug));
        }
    }
    if failures.is_empty() {
        println!("\nsoak: every check passed");
        Ok(())
    } else {
        bail!("soak failed: {}", failures.join("; "))
    }
}
