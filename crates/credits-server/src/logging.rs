//! dropshot logs through `slog`; this passes its records to `tracing`, so the server writes one
//! log in one format (`--log-format`). Each record's key-values (among them the request id the
//! edge sent in `x-request-id`, and for an error its internal cause) become one `fields` string.
//!
//! The edge writes a line for every request; dropshot's own "request completed" line is kept
//! at `info` only when it carries an error's cause, and goes to `debug` otherwise.

use std::fmt::Write as _;

use slog::{Drain, KV, Level, OwnedKVList, Record};

/// A `slog` logger writing to `tracing` (target `dropshot`), records below `level` dropped.
pub fn dropshot_logger(level: dropshot::ConfigLoggingLevel) -> slog::Logger {
    let level = match level {
        dropshot::ConfigLoggingLevel::Trace => Level::Trace,
        dropshot::ConfigLoggingLevel::Debug => Level::Debug,
        dropshot::ConfigLoggingLevel::Info => Level::Info,
        dropshot::ConfigLoggingLevel::Warn => Level::Warning,
        dropshot::ConfigLoggingLevel::Error => Level::Error,
        dropshot::ConfigLoggingLevel::Critical => Level::Critical,
    };
    slog::Logger::root(slog::LevelFilter::new(ToTracing, level).fuse(), slog::o!())
}

struct ToTracing;

/// `key=value` pairs separated by spaces.
#[derive(Default)]
struct Fields {
    text: String,
    has_error: bool,
}

impl slog::Serializer for Fields {
    fn emit_arguments(&mut self, key: slog::Key, value: &std::fmt::Arguments<'_>) -> slog::Result {
        if key == "error_message_internal" {
            self.has_error = true;
        }
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        let _ = write!(self.text, "{key}={value}");
        Ok(())
    }
}

impl Drain for ToTracing {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        let mut fields = Fields::default();
        let _ = record.kv().serialize(record, &mut fields);
        let _ = values.serialize(record, &mut fields);
        let message = record.msg().to_string();
        let fields = fields.text.as_str();
        match record.level() {
            Level::Critical | Level::Error => tracing::error!(target: "dropshot", fields, "{message}"),
            Level::Warning => tracing::warn!(target: "dropshot", fields, "{message}"),
            Level::Info if message == "request completed" && !has_error(record) => {
                tracing::debug!(target: "dropshot", fields, "{message}")
            }
            Level::Info => tracing::info!(target: "dropshot", fields, "{message}"),
            Level::Debug => tracing::debug!(target: "dropshot", fields, "{message}"),
            Level::Trace => tracing::trace!(target: "dropshot", fields, "{message}"),
        }
        Ok(())
    }
}

fn has_error(record: &Record<'_>) -> bool {
    let mut fields = Fields::default();
    let _ = record.kv().serialize(record, &mut fields);
    fields.has_error
}
