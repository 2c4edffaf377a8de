//! Records of the `log` crate, through `tracing-log`, into the same
//! pipeline as `tracing` events (JSON, ids, redaction, buffering,
//! filtering). Another `log` logger already installed is left in place,
//! with one warning.

/// Installs the bridge; the warning to log when it could not be.
pub(crate) fn install() -> Option<String> {
    // Every level reaches the filters, which decide (the buffer and the
    // run-time verbosity want levels `RUST_LOG` does not write).
    match tracing_log::LogTracer::builder()
        .with_max_level(tracing_log::log::LevelFilter::Trace)
        .init()
    {
        Ok(()) => None,
        Err(_) => Some(
            "another `log` logger is already installed: records of the `log` crate go to it, \
             not through observe (Telemetry::builder().log_bridge(false) turns the bridge off)"
                .to_owned(),
        ),
    }
}
