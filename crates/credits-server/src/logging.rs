//! dropshot logs through `slog`; this passes its records to `tracing`, so the server writes one
//! log in one format (`--log-format`). Each record's key-values (among them the request id the
//! edge sent in `x-request-id`, and for an error its internal cause) become one `fields` string.
//!
//! The edge writes a line for every request, so dropshot's `info` records (accepted connections,
//! completed requests) go to `debug`; except a request that ended in a 5xx, whose line carries
//! the cause (never sent to the client) and is written at `error`.

use std::fmt::Write as _;

use slog::{Drain, KV, Level, OwnedKVList, Record};

/// A `slog` logger writing to `tracing` (target `dropshot`); `debug` and `trace` records only
/// when `level` asks for them.
pub fn dropshot_logger(level: dropshot::ConfigLoggingLevel) -> slog::Logger {
    let level = match level {
        dropshot::ConfigLoggingLevel::Trace => Level::Trace,
        dropshot::ConfigLoggingLevel::Debug => Level::Debug,
        // A 5xx's cause comes as an `info` record (written at `error`): always let it through;
        // `tracing`'s filter has the last word.
        _ => Level::Info,
    };
    slog::Logger::root(slog::LevelFilter::new(ToTracing, level).fuse(), slog::o!())
}

struct ToTracing;

/// `key=value` pairs separated by spaces.
#[derive(Default)]
struct Fields {
    text: String,
    server_error: bool,
}

impl slog::Serializer for Fields {
    fn emit_arguments(&mut self, key: slog::Key, value: &std::fmt::Arguments<'_>) -> slog::Result {
        if key == "response_code" && value.to_string().parse::<u16>().is_ok_and(|code| code >= 500) {
            self.server_error = true;
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
        let server_error = fields.server_error;
        let fields = fields.text.as_str();
        match record.level() {
            Level::Critical | Level::Error => tracing::error!(target: "dropshot", fields, "{message}"),
            Level::Info if server_error => tracing::error!(target: "dropshot", fields, "{message}"),
            Level::Warning => tracing::warn!(target: "dropshot", fields, "{message}"),
            Level::Info => tracing::debug!(target: "dropshot", fields, "{message}"),
            Level::Debug => tracing::debug!(target: "dropshot", fields, "{message}"),
            Level::Trace => tracing::trace!(target: "dropshot", fields, "{message}"),
        }
        Ok(())
    }
}
