//! The buffer's memory stays bounded under many concurrent traces with
//! large buffers: the byte accounting never exceeds the total limit, a
//! trace over its own limits loses its oldest lines first and its flushed
//! batch says how many, and every byte is given back when traces settle.

use std::sync::{Arc, Barrier};

use observe::{LogBufferConfig, LogWriter, Telemetry};
use serde_json::Value;

const TRACES: usize = 16;
const LINES: usize = 200;

#[test]
fn many_concurrent_traces_stay_within_the_limits() {
    let (writer, logs) = LogWriter::memory();
    let limits = LogBufferConfig {
        directives: Some("logs_buffer_bounds=debug".into()),
        max_lines_per_trace: 50,
        max_bytes_per_trace: 16 * 1024,
        max_total_bytes: 64 * 1024,
        ..LogBufferConfig::default()
    };
    let _telemetry = Telemetry::builder()
        .service_name("bounds-test")
        .log_filter("info")
        .log_writer(writer)
        .log_buffer(limits.clone())
        .try_init()
        .expect("init");

    let filled = Arc::new(Barrier::new(TRACES + 1));
    let measured = Arc::new(Barrier::new(TRACES + 1));
    // Trace 0 fills its buffer before the others start: the total limit
    // then starves the others, not the trace whose flush is checked.
    let first_filled = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..TRACES)
        .map(|index| {
            let (filled, measured) = (filled.clone(), measured.clone());
            let zero_filled = first_filled.clone();
            let thread = std::thread::spawn(move || {
                let span = tracing::info_span!("request", index);
                let _entered = span.enter();
                let padding = "x".repeat(300);
                for line in 0..LINES {
                    tracing::debug!(line, padding = padding.as_str(), "step");
                }
                if index == 0 {
                    zero_filled.wait();
                }
                // Every trace is open and full: the main thread measures.
                filled.wait();
                measured.wait();
                if index == 0 {
                    tracing::error!("trace 0 fails");
                }
            });
            if index == 0 {
                first_filled.wait();
            }
            thread
        })
        .collect();
    filled.wait();
    let held = observe::log_buffer_bytes();
    assert!(
        held <= limits.max_total_bytes,
        "{held} bytes held over the {} limit",
        limits.max_total_bytes
    );
    assert!(held > 0, "the open traces hold lines");
    measured.wait();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(observe::log_buffer_bytes(), 0, "every byte given back");

    let lines: Vec<Value> = logs
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flushed: Vec<&Value> = lines.iter().filter(|l| l["log.buffered"] == true).collect();
    assert!(!flushed.is_empty(), "trace 0 flushed what it kept");
    assert!(flushed.iter().all(|l| l["index"] == 0));
    assert!(flushed.len() <= limits.max_lines_per_trace);
    // The oldest went first: what is left is the newest, in order.
    let numbers: Vec<u64> = flushed
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(*numbers.last().unwrap(), (LINES - 1) as u64);
    assert!(numbers.windows(2).all(|w| w[0] + 1 == w[1]), "{numbers:?}");
    // The first flushed line says how many were lost.
    assert_eq!(
        flushed[0]["log.buffer.lost"],
        (LINES - flushed.len()) as u64,
        "{}",
        flushed[0]
    );
    assert!(
        flushed[1..]
            .iter()
            .all(|l| l.get("log.buffer.lost").is_none())
    );
    // The successful traces wrote none of their DEBUG lines.
    assert!(
        lines
            .iter()
            .filter(|l| l["level"] == "DEBUG")
            .all(|l| l["index"] == 0)
    );
}
