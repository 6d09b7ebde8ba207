//! Group commit for SQLite: the hot writes (recording a checkout session, granting a paid
//! session, recording a Stripe event, settling an idempotency key) are queued to one writer
//! connection, which runs every write waiting at that moment in one transaction, each
//! multi-statement write under its own savepoint, and commits them together.
//!
//! Why: with `synchronous=FULL` every commit waits for an fsync of the log (about 1 ms on this
//! kind of disk), and SQLite has one writer at a time, so committing each write alone caps the
//! server at roughly a thousand writes a second, and writers waiting on SQLite's busy handler
//! sleep in steps of up to 100 ms (the p99 of hundreds of milliseconds the benchmark showed).
//! Here concurrent writes share one fsync and wait in a FIFO queue instead of polling the lock.
//!
//! What does not change: a caller hears that its write succeeded only after the transaction
//! holding it committed (durable as before); a write that fails is rolled back to its savepoint
//! alone, so the others in the batch commit without it; each write still sees the effects of the
//! ones before it (one connection), so unique constraints decide exactly as before. When the
//! commit itself fails, every write of the batch fails.

use std::future::Future;
use std::pin::Pin;

use sqlx::{ConnectOptions, Connection, SqliteConnection, sqlite::SqliteConnectOptions};
use tokio::sync::{mpsc, oneshot};

use super::{Result, StoreError};

/// A write's work on the writer connection.
pub(super) type WriteFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'c>>;

/// Hands a write its result once the batch's commit is known: `None` when it committed.
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

/// A queued write: runs (under its savepoint, if it has one), then waits for the commit. Besides
/// its answer, it says whether it failed without a savepoint (then the writer checks that the
/// transaction survived).
type Job = Box<
    dyn for<'c> FnOnce(&'c mut SqliteConnection) -> Pin<Box<dyn Future<Output = (Deliver, bool)> + Send + 'c>> + Send,
>;

/// At most this many writes share a transaction, so one commit never waits for an unbounded
/// amount of work.
const MAX_BATCH: usize = 256;

/// The queue to the writer connection; the connection closes when every clone is dropped.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Writer {
    /// Opens the writer's own connection (same options as the pool's) and starts its task.
    pub(super) async fn open(options: &SqliteConnectOptions) -> Result<Writer> {
        let connection = options.connect().await?;
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(connection, queue));
        Ok(Writer { jobs })
    }

    /// Runs `write` in the next batch; its result once that batch has committed. With
    /// `savepoint`, a failure undoes all of `write`; without, each statement stands alone, as in
    /// autocommit (for a single statement, or statements each safe alone: two fewer round trips
    /// to the driver's thread).
    pub(super) async fn write<T, F>(&self, savepoint: bool, write: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                let outcome =
                    if savepoint { in_savepoint(connection, write).await } else { write(&mut *connection).await };
                // Any failure may have been severe enough to end the transaction (with a
                // savepoint too: undoing it then fails as well); the loop checks.
                let check = outcome.is_err();
                let deliver = Box::new(move |commit_failure: Option<&str>| {
                    let result = match (outcome, commit_failure) {
                        (Ok(_), Some(failure)) => Err(StoreError::Invalid(format!("database: commit: {failure}"))),
                        (outcome, _) => outcome,
                    };
                    let _ = answer.send(result);
                });
                (deliver as Deliver, check)
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::Invalid("database: the writer has stopped".into()))?;
        answered.await.map_err(|_| StoreError::Invalid("database: the write's transaction could not begin".into()))?
    }
}

/// One write under its own savepoint: kept when it succeeds, undone alone when it fails.
async fn in_savepoint<T, F>(connection: &mut SqliteConnection, write: F) -> Result<T>
where
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T>,
{
    sqlx::query("SAVEPOINT write").execute(&mut *connection).await?;
    let outcome = write(&mut *connection).await;
    if outcome.is_err() {
        sqlx::query("ROLLBACK TO write").execute(&mut *connection).await?;
    }
    sqlx::query("RELEASE write").execute(&mut *connection).await?;
    outcome
}

/// The writer's loop: takes every queued write (up to [`MAX_BATCH`]), runs them in one
/// transaction, commits, then answers each.
async fn run(mut connection: SqliteConnection, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // IMMEDIATE: the write lock is taken now (waiting up to the busy timeout for another
        // process), so no write inside can fail for want of it.
        if let Err(error) = sqlx::query("BEGIN IMMEDIATE").execute(&mut connection).await {
            tracing::error!(%error, writes = batch.len(), "could not begin a write transaction");
            // Dropping the writes answers each of them with an error.
            batch.clear();
            continue;
        }
        let mut delivers = Vec::with_capacity(batch.len());
        let mut broken = false;
        // Writes not run (after a broken transaction) are dropped: each caller hears an error.
        for job in batch.drain(..) {
            let (deliver, check) = job(&mut connection).await;
            delivers.push(deliver);
            // A statement's ordinary failure (a constraint) undoes that statement only; a severe
            // one (I/O, disk full) rolls the whole transaction back. `BEGIN` succeeds only
            // when no transaction is open: then the writes before this one are lost.
            if check && sqlx::query("BEGIN").execute(&mut connection).await.is_ok() {
                broken = true;
                break;
            }
        }
        let committed = if broken {
            Err("the transaction was rolled back by a failed write".to_string())
        } else {
            sqlx::query("COMMIT").execute(&mut connection).await.map(|_| ()).map_err(|e| e.to_string())
        };
        let failure = match committed {
            Ok(()) => None,
            Err(error) => {
                tracing::error!(%error, writes = delivers.len(), "a write transaction failed to commit");
                let _ = sqlx::query("ROLLBACK").execute(&mut connection).await;
                Some(error)
            }
        };
        for deliver in delivers {
            deliver(failure.as_deref());
        }
    }
    let _ = connection.close().await;
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};

    use super::*;

    async fn database() -> (SqliteConnectOptions, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("credits-batch-{}.db", uuid::Uuid::new_v4().simple()));
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(5));
        let mut connection = options.connect().await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").execute(&mut connection).await.unwrap();
        connection.close().await.unwrap();
        (options, path)
    }

    /// Two rows, `first` then `id`: when the second fails, the first must be undone with it.
    fn insert_two(
        first: i64,
        id: i64,
    ) -> impl for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, u64> + Send + 'static {
        move |connection| {
            Box::pin(async move {
                sqlx::query("INSERT INTO t (id, v) VALUES ($1, 'first')").bind(first).execute(&mut *connection).await?;
                let done =
                    sqlx::query("INSERT INTO t (id, v) VALUES ($1, 'x')").bind(id).execute(&mut *connection).await?;
                Ok(done.rows_affected())
            })
        }
    }

    /// One row, one statement.
    fn single(id: i64) -> impl for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, u64> + Send + 'static {
        move |connection| {
            Box::pin(async move {
                let done =
                    sqlx::query("INSERT INTO t (id, v) VALUES ($1, 'x')").bind(id).execute(&mut *connection).await?;
                Ok(done.rows_affected())
            })
        }
    }

    fn insert(id: i64) -> impl for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, u64> + Send + 'static {
        insert_two(id + 1000, id)
    }

    /// Concurrent writes share transactions; a failing one (a duplicate key) is undone alone,
    /// both its statements; each caller hears its own outcome, and what succeeded is committed
    /// (visible to another connection) by the time the caller hears it.
    #[tokio::test]
    async fn a_failing_write_is_undone_alone_and_the_others_are_committed_when_answered() {
        let (options, path) = database().await;
        let writer = Writer::open(&options).await.unwrap();
        writer.write(true, insert(7)).await.unwrap();
        let mut tasks = Vec::new();
        for id in 0..200_i64 {
            let writer = writer.clone();
            // Every tenth write's second row repeats id 7, which exists: it must fail, and its
            // first row (5000 + id) must not be kept.
            let (first, id) = if id % 10 == 0 { (5000 + id, 7) } else { (id + 1010, id + 10) };
            tasks.push(tokio::spawn(async move { (id, writer.write(true, insert_two(first, id)).await) }));
        }
        let mut reader = options.connect().await.unwrap();
        let (mut ok, mut failed) = (0, 0);
        for task in tasks {
            let (id, outcome) = task.await.unwrap();
            let stored: Option<String> =
                sqlx::query_scalar("SELECT v FROM t WHERE id = $1").bind(id).fetch_optional(&mut reader).await.unwrap();
            match outcome {
                Ok(1) => {
                    ok += 1;
                    assert_eq!(stored.as_deref(), Some("x"), "committed before the answer: {id}");
                }
                Err(_) => {
                    failed += 1;
                    assert_eq!(id, 7);
                }
                Ok(other) => panic!("{other} rows"),
            }
        }
        assert_eq!((ok, failed), (180, 20));
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&mut reader).await.unwrap();
        assert_eq!(rows, 2 * 181, "each success wrote both rows, each failure neither");
        let kept: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM t WHERE id >= 5000").fetch_one(&mut reader).await.unwrap();
        assert_eq!(kept, 0, "a failed write's first statement is undone");
        reader.close().await.unwrap();
        let _ = std::fs::remove_file(&path);
    }

    /// Without savepoints, a single statement that fails (a duplicate key) undoes itself only:
    /// the transaction goes on and the others in the batch commit.
    #[tokio::test]
    async fn a_failing_statement_without_a_savepoint_leaves_the_batch_committing() {
        let (options, path) = database().await;
        let writer = Writer::open(&options).await.unwrap();
        writer.write(false, single(7)).await.unwrap();
        let mut tasks = Vec::new();
        for id in 0..100_i64 {
            let writer = writer.clone();
            let id = if id % 10 == 0 { 7 } else { id + 10 };
            tasks.push(tokio::spawn(async move { (id, writer.write(false, single(id)).await) }));
        }
        for task in tasks {
            let (id, outcome) = task.await.unwrap();
            assert_eq!(outcome.is_err(), id == 7, "{id}: {outcome:?}");
        }
        let mut reader = options.connect().await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&mut reader).await.unwrap();
        assert_eq!(rows, 91);
        reader.close().await.unwrap();
        let _ = std::fs::remove_file(&path);
    }

    /// A write whose failure ends the whole transaction, as SQLite does on an I/O error or a
    /// full disk (here: the write rolls it back itself), among concurrent ones, with and without
    /// savepoints: every caller hears the truth, so what was answered Ok is stored and what was
    /// answered Err is not (the writes after it in its batch must not commit on their own).
    #[tokio::test]
    async fn a_write_that_ends_the_transaction_leaves_every_answer_true() {
        fn ends_the_transaction(
            id: i64,
        ) -> impl for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, u64> + Send + 'static {
            move |connection| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (id, v) VALUES ($1, 'x')").bind(id).execute(&mut *connection).await?;
                    sqlx::query("ROLLBACK").execute(&mut *connection).await?;
                    Err(StoreError::Invalid("disk I/O error (simulated: the transaction is gone)".into()))
                })
            }
        }
        for savepoint in [true, false] {
            let (options, path) = database().await;
            let writer = Writer::open(&options).await.unwrap();
            let mut tasks = Vec::new();
            for id in 0..200_i64 {
                let writer = writer.clone();
                tasks.push(tokio::spawn(async move {
                    let outcome = match id % 25 {
                        5 => writer.write(savepoint, ends_the_transaction(id)).await,
                        _ => writer.write(savepoint, single(id)).await,
                    };
                    (id, outcome.is_ok())
                }));
            }
            let mut reader = options.connect().await.unwrap();
            for task in tasks {
                let (id, answered_ok) = task.await.unwrap();
                let stored: Option<String> = sqlx::query_scalar("SELECT v FROM t WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut reader)
                    .await
                    .unwrap();
                assert_eq!(stored.is_some(), answered_ok, "write {id} (savepoint: {savepoint})");
            }
            assert!(writer.write(savepoint, single(1000)).await.is_ok(), "the writer goes on");
            reader.close().await.unwrap();
            let _ = std::fs::remove_file(&path);
        }
    }

    /// Once the last handle to the writer is gone, its connection is closed: SQLite then
    /// checkpoints the log and deletes it, so a stopped server leaves one whole database file.
    #[tokio::test]
    async fn the_writer_closes_its_connection_when_no_one_can_write_any_more() {
        let (options, path) = database().await;
        let writer = Writer::open(&options).await.unwrap();
        writer.write(true, insert(1)).await.unwrap();
        let log = path.with_extension("db-wal");
        assert!(log.exists(), "a write-ahead log while the writer is open");
        drop(writer);
        for _ in 0..200 {
            if !log.exists() {
                let _ = std::fs::remove_file(&path);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the writer's connection is still open: {} remains", log.display());
    }

    /// The file's write lock held by another connection past the busy timeout: the batch cannot
    /// begin, and its writes fail rather than hang; once the lock is gone, writes work again.
    #[tokio::test]
    async fn writes_fail_when_the_transaction_cannot_begin_and_work_again_after() {
        let (options, path) = database().await;
        let options = options.busy_timeout(std::time::Duration::from_millis(200));
        let writer = Writer::open(&options).await.unwrap();
        let mut locker = options.connect().await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut locker).await.unwrap();
        assert!(writer.write(true, insert(1)).await.is_err());
        sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
        assert_eq!(writer.write(true, insert(1)).await.unwrap(), 1);
        let _ = std::fs::remove_file(&path);
    }
}
