//! Data for the benchmark: ledger rows appended to an org in one statement (so that reads can be
//! measured over a long history), each org's stored balance beside its ledger's sum (what the soak
//! checks at its end, which the API cannot show past its 100 newest entries), the id of an entry
//! deep in that history (a `before` cursor for a deep page), and PostgreSQL databases of its own.

use sqlx::Connection;

/// Keeps the server's stored balance in step with the rows appended (as the server does for each
/// ledger write).
const ADD_TO_BALANCE: &str = "INSERT INTO org_balances (org_id, balance) VALUES ($1, $2) \
     ON CONFLICT (org_id) DO UPDATE SET balance = org_balances.balance + excluded.balance";

/// Appends `rows` entries of one credit each (`admin_adjustment`) to the ledger of the org `slug`.
pub async fn ledger(database_url: &str, slug: &str, rows: u64) -> anyhow::Result<()> {
    let rows = i64::try_from(rows)?;
    if database_url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(database_url).await?;
        let org_id: String =
            sqlx::query_scalar("SELECT id FROM orgs WHERE slug = $1").bind(slug).fetch_one(&mut conn).await?;
        // The column is text (RFC 3339) or timestamptz, depending on the schema's age.
        let column_type: String = sqlx::query_scalar(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'ledger' AND column_name = 'created_at'",
        )
        .fetch_one(&mut conn)
        .await?;
        let created_at = if column_type == "text" {
            "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        } else {
            "now()"
        };
        let sql = format!(
            "INSERT INTO ledger (id, org_id, amount, transaction_type, description, created_at) \
             SELECT gen_random_uuid()::text, $1, 1, 'admin_adjustment', 'benchmark seed', {created_at} FROM generate_series(1, $2)"
        );
        sqlx::query(&sql).bind(&org_id).bind(rows).execute(&mut conn).await?;
        sqlx::query(ADD_TO_BALANCE).bind(&org_id).bind(rows).execute(&mut conn).await?;
    } else {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await?;
        let org_id: String =
            sqlx::query_scalar("SELECT id FROM orgs WHERE slug = ?").bind(slug).fetch_one(&mut conn).await?;
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
             INSERT INTO ledger (id, org_id, amount, transaction_type, description, created_at) \
             SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) \
             || '-8' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), ?, 1, 'admin_adjustment', 'benchmark seed', strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM n",
        )
        .bind(rows)
        .bind(&org_id)
        .execute(&mut conn)
        .await?;
        sqlx::query(ADD_TO_BALANCE).bind(&org_id).bind(rows).execute(&mut conn).await?;
    }
    println!("appended {rows} ledger rows to {slug}");
    Ok(())
}

/// Per org, by slug: the stored balance (`org_balances`) and the sum of its ledger entries. One
/// statement, so both come from the same snapshot.
const TOTALS: &str = "SELECT o.slug, CAST(COALESCE(b.balance, 0) AS BIGINT), \
     CAST(COALESCE((SELECT SUM(l.amount) FROM ledger l WHERE l.org_id = o.id), 0) AS BIGINT) \
     FROM orgs o LEFT JOIN org_balances b ON b.org_id = o.id ORDER BY o.slug";

/// Prints, one org a line, tab-separated: slug, stored balance, ledger sum.
pub async fn ledger_totals(database_url: &str) -> anyhow::Result<()> {
    let rows: Vec<(String, i64, i64)> = if database_url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(database_url).await?;
        sqlx::query_as(TOTALS).fetch_all(&mut conn).await?
    } else {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await?;
        sqlx::query_as(TOTALS).fetch_all(&mut conn).await?
    };
    for (slug, stored, ledger) in rows {
        println!("{slug}\t{stored}\t{ledger}");
    }
    Ok(())
}

/// The id of the org `slug`'s entry with `offset` older entries before it: the cursor of a page
/// as deep in the history as it gets (the API's ids are UUIDs, so the seed writes UUIDs too).
pub async fn ledger_id(database_url: &str, slug: &str, offset: u64) -> anyhow::Result<()> {
    let offset = i64::try_from(offset)?;
    let sql = "SELECT l.id FROM ledger l JOIN orgs o ON o.id = l.org_id WHERE o.slug = $1 \
               ORDER BY l.seq LIMIT 1 OFFSET $2";
    let id: String = if database_url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(database_url).await?;
        sqlx::query_scalar(sql).bind(slug).bind(offset).fetch_one(&mut conn).await?
    } else {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await?;
        sqlx::query_scalar(sql).bind(slug).bind(offset).fetch_one(&mut conn).await?
    };
    println!("{id}");
    Ok(())
}

pub async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = match sqlx::PgConnection::connect(admin_url).await {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("PostgreSQL not reachable at {admin_url}: {e}");
            std::process::exit(2);
        }
    };
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await?;
    Ok(())
}

pub async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await?;
    Ok(())
}
