//! Every panic in the process, logged once at ERROR inside the current
//! span (so with its `trace_id` and `request_id`), then handed to the
//! previous hook. A panic observe catches itself while formatting a
//! recorded value is not a panic of the program and is not logged.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::panic::PanicHookInfo;

/// Installs the hook in front of the one in place.
pub(crate) fn install() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !observe_runtime::in_guarded_formatting() {
            log_panic(info);
        }
        previous(info);
    }));
}

fn log_panic(info: &PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    let file = info.location().map(|l| l.file());
    let line = info.location().map(|l| l.line());
    // `capture` honours RUST_BACKTRACE / RUST_LIB_BACKTRACE.
    let backtrace = Backtrace::capture();
    let stacktrace =
        (backtrace.status() == BacktraceStatus::Captured).then(|| backtrace.to_string());
    tracing::error!(
        target: "panic",
        {
        "error.type" = "panic",
        "error.message" = message,
        "code.file.path" = file,
        "code.line.number" = line,
        "exception.stacktrace" = stacktrace.as_deref(),
        },
        "thread panicked"
    );
}
