//! `GET /docs`: the API reference page, served with its files by the server itself, and rendered
//! by a real headless browser (Debian's `chromium`): the operations of the served document show,
//! the page's requests (its files, the document) reach this server and no other, and its "Try it
//! out" (driven through `chromedriver`) gets this server's answer.
//!
//! Without a browser the rendering test says so loudly and checks nothing, unless
//! `CREDITS_REQUIRE_BROWSER` is set (CI sets it), in which case it fails.

use std::process::Command;
use std::time::Duration;

use crate::helpers::{Db, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_page_and_its_files_are_served_with_their_media_types() {
    let app = spawn_app(Db::Sqlite).await;
    let get = |path: &str| reqwest::get(format!("{}{path}", app.base_url));
    let page = get("/docs").await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html");
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let html = page.text().await.unwrap();
    assert!(html.contains("/docs/swagger-ui-bundle.js") && html.contains("/openapi.json"), "{html}");
    assert!(!html.contains("https://"), "nothing from elsewhere: {html}");
    for (file, media_type) in [("swagger-ui.css", "text/css"), ("swagger-ui-bundle.js", "text/javascript")] {
        let asset = get(&format!("/docs/{file}")).await.unwrap();
        assert_eq!(asset.status(), 200, "{file}");
        assert_eq!(asset.headers()["content-type"], media_type, "{file}");
        assert!(asset.bytes().await.unwrap().len() > 10_000, "{file} is the real file");
    }
    for unknown in ["nothing.js", "..%2Fopenapi.json", "openapi.yaml"] {
        let response = get(&format!("/docs/{unknown}")).await.unwrap();
        assert_eq!(response.status(), 404, "{unknown}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["type"], "not_found_error", "{unknown}: {body}");
    }
}

/// The browser's binary, if one is installed.
fn browser() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok_and(|output| output.status.success()))
}

#[tokio::test]
async fn a_browser_renders_the_operations_from_this_server_alone() {
    let Some(browser) = browser() else {
        if std::env::var_os("CREDITS_REQUIRE_BROWSER").is_some() {
            panic!("no chromium found, and CREDITS_REQUIRE_BROWSER is set: apt-get install -y chromium");
        }
        eprintln!("BROWSER TEST SKIPPED: no chromium found (apt-get install -y chromium)");
        return;
    };
    let app = spawn_app_with(Db::Sqlite, |c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let url = format!("{}/docs", app.base_url);
    let profile = std::env::temp_dir().join(format!("credits-chromium-{}", uuid::Uuid::new_v4().simple()));
    let dump = tokio::task::spawn_blocking(move || {
        let output = Command::new(browser)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            // No network beyond this machine: a file fetched from elsewhere would be missing.
            .arg("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(["--virtual-time-budget=15000", "--dump-dom", &url])
            .output()
            .expect("the browser runs");
        let _ = std::fs::remove_dir_all(&profile);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8")
    });
    let dom = tokio::time::timeout(Duration::from_secs(90), dump).await.expect("the browser ends").unwrap();
    // Swagger UI lists every operation by its path and summary once it has read the document.
    for text in ["/api/v1/org/{org}/credits/checkout", "/healthz", "Liveness", "API reference page asset"] {
        assert!(dom.contains(text), "{text} is not on the rendered page:\n{dom}");
    }
    assert!(dom.contains("opblock"), "operations rendered as blocks:\n{dom}");

    // The page's script ran in the browser and asked this server for the document.
    let addr = app.metrics_addr().unwrap();
    let metrics = reqwest::get(format!("http://{addr}/metrics")).await.unwrap().text().await.unwrap();
    let served = |route: &str| {
        metrics
            .lines()
            .filter(|l| l.starts_with("credits_http_requests_total{"))
            .filter(|l| l.contains(&format!("route=\"{route}\"")) && l.contains("status=\"200\""))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum::<f64>()
    };
    assert!(served("/openapi.json") >= 1.0, "{metrics}");
    assert!(served("/docs/{file}") >= 2.0, "the style sheet and the script: {metrics}");
}

/// A chromedriver on a free port, stopped when dropped.
struct Driver {
    process: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn start_driver() -> Option<Driver> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let process = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let driver = Driver { process, url: format!("http://127.0.0.1:{port}") };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok_and(|r| r.status().is_success()) {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// "Try it out" → "Execute" on `GET /healthz`, in the page, through chromedriver: the answer the
/// page shows is this server's, and the server counted the request.
#[tokio::test]
async fn try_it_out_reaches_the_server() {
    use fantoccini::{ClientBuilder, Locator};
    let driver = match (browser(), start_driver().await) {
        (Some(_), Some(driver)) => driver,
        _ if std::env::var_os("CREDITS_REQUIRE_BROWSER").is_some() => {
            panic!(
                "chromium or chromedriver missing, and CREDITS_REQUIRE_BROWSER is set: apt-get install -y chromium chromium-driver"
            );
        }
        _ => {
            eprintln!(
                "BROWSER TEST SKIPPED: no chromium or chromedriver (apt-get install -y chromium chromium-driver)"
            );
            return;
        }
    };
    let app = spawn_app_with(Db::Sqlite, |c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client =
        ClientBuilder::new(connector).capabilities(capabilities).connect(&driver.url).await.expect("a browser session");
    let outcome = async {
        client.goto(&format!("{}/docs", app.base_url)).await?;
        let block = "#operations-health-get_liveness";
        let wait = client.wait().at_most(Duration::from_secs(30));
        wait.for_element(Locator::Css(&format!("{block} .opblock-summary"))).await?.click().await?;
        let wait = client.wait().at_most(Duration::from_secs(30));
        wait.for_element(Locator::Css(&format!("{block} .try-out__btn"))).await?.click().await?;
        let wait = client.wait().at_most(Duration::from_secs(30));
        wait.for_element(Locator::Css(&format!("{block} .execute"))).await?.click().await?;
        let wait = client.wait().at_most(Duration::from_secs(30));
        let status = wait
            .for_element(Locator::Css(&format!("{block} .live-responses-table tr.response .response-col_status")))
            .await?;
        let wait = client.wait().at_most(Duration::from_secs(30));
        let body = wait
            .for_element(Locator::Css(&format!("{block} .live-responses-table tr.response .response-col_description")))
            .await?;
        Ok::<_, fantoccini::error::CmdError>((status.text().await?, body.text().await?))
    }
    .await;
    let _ = client.close().await;
    let (status, body) = outcome.expect("the page's Try it out works");
    assert_eq!(status.trim(), "200", "{body}");
    assert!(body.contains("\"status\": \"ok\""), "the server's own answer: {body}");
    let addr = app.metrics_addr().unwrap();
    let metrics = reqwest::get(format!("http://{addr}/metrics")).await.unwrap().text().await.unwrap();
    let healthz = metrics
        .lines()
        .find(|l| {
            l.starts_with("credits_http_requests_total{")
                && l.contains("route=\"/healthz\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("the server saw no GET /healthz: {metrics}"));
    assert!(healthz.ends_with(" 1"), "{healthz}");
}
