//! A `log` logger installed before `init` is left in place, with one
//! warning; its records do not reach observe's output.

use std::sync::Mutex;

use observe_telemetry::{LogWriter, Telemetry};
use tracing_log::log;

struct Keep(Mutex<Vec<String>>);

impl log::Log for Keep {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap().push(record.args().to_string());
    }
    fn flush(&self) {}
}

static OTHER: Keep = Keep(Mutex::new(Vec::new()));

#[test]
fn another_logger_is_kept_with_one_warning() {
    log::set_logger(&OTHER).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let (writer, logs) = LogWriter::memory();
    let _telemetry = Telemetry::builder()
        .log_filter("info")
        .log_writer(writer)
        .try_init()
        .expect("init");
    log::info!("to the other logger");
    let warnings: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains("another `log` logger is already installed"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", logs.text());
    assert!(warnings[0].contains(r#""level":"WARN""#));
    assert!(!logs.text().contains("to the other logger"));
    assert_eq!(
        *OTHER.0.lock().unwrap(),
        vec!["to the other logger".to_owned()]
    );
}
