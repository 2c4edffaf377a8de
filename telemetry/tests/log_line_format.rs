//! The exact JSON line `init` writes: the leading keys in their order, the
//! rest in key order; the innermost span winning a key over outer spans and
//! over the event (and a span's `name` being its name, as json-subscriber
//! had it); every value redacted as the old parse-and-scrub pipeline did
//! (these lines were checked against it byte for byte); a field named like
//! the line's own metadata written as `fields.<name>`, never in its place.

use observe_telemetry::{LogWriter, Telemetry};

/// The line with its run-dependent values (timestamp, ids) replaced by `X`.
fn stable(line: &str) -> String {
    let fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let mut line = line.to_owned();
    for key in ["timestamp", "trace_id", "span_id"] {
        if let Some(serde_json::Value::String(value)) = fields.get(key)
            && (key != "timestamp" || value.ends_with('Z'))
        {
            line = line.replace(
                &format!("\"{key}\":\"{value}\""),
                &format!("\"{key}\":\"X\""),
            );
        }
    }
    line
}

#[test]
fn lines_have_the_exact_keys_order_and_values() {
    let (writer, buffer) = LogWriter::memory();
    let _guard = Telemetry::builder()
        .service_name("svc")
        .service_version("1.0")
        .environment("dev")
        .log_writer(writer)
        .log_filter("debug")
        .try_init()
        .expect("first init");

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Big {
        a: u64,
    }
    {
        let outer = tracing::info_span!(
            "outer",
            request_id = "r1",
            shared = 1,
            password = "x",
            card = 4111111111111111u64,
            neg = -1234567890123i64,
            r#type = ?"t",
            service = "other",
            z_last = tracing::field::Empty,
            f = 1.5,
            nan = f64::NAN,
            b = true,
            big = u128::MAX,
        );
        let _outer = outer.enter();
        outer.record("z_last", "late");
        outer.record("shared", 2);
        let inner = tracing::debug_span!("inner", shared = "inner", level = "spanlevel");
        let _inner = inner.enter();
        tracing::info!(
            shared = "event",
            message2 = ?Big { a: 1 },
            token = 5,
            amount = 4111111111111111u64,
            small = 12,
            ratio = 2.0,
            text = "quote \" \\ \n \u{7} é",
            r#type = "evt",
            "msg {}",
            42
        );
        tracing::error!(
            error = %std::io::Error::other("Bearer abcdefghijklmnopqrstuvwxyz0123"),
            "failed"
        );
    }
    tracing::warn!(target: "custom::target", "no span");
    tracing::info!(timestamp = "fake", "dup timestamp");
    // A field named like the line's own metadata cannot replace it or pose
    // as it, and is scrubbed like any field.
    tracing::info!(
        target = %"postgres://app:TargetFieldPw@db",
        level = %"Authorization: Bearer LevelFieldTok0123456789",
        trace_id = "upstream-7",
        "forged"
    );

    let lines: Vec<String> = buffer.lines().iter().map(|line| stable(line)).collect();
    assert_eq!(
        lines,
        [
            r#"{"timestamp":"X","level":"INFO","message":"msg 42","target":"log_line_format","service":"other","environment":"dev","version":"1.0","trace_id":"X","span_id":"X","amount":"[REDACTED]","b":true,"big":"340282366920938463463374607431768211455","card":"[REDACTED]","f":1.5,"fields.level":"spanlevel","message2":"Big { a: 1 }","name":"inner","nan":null,"neg":-1234567890123,"password":"[REDACTED]","ratio":2.0,"request_id":"r1","shared":"inner","small":12,"text":"quote \" \\ \n \u0007 é","token":"[REDACTED]","type":"\"t\"","z_last":"late"}"#,
            r#"{"timestamp":"X","level":"ERROR","message":"failed","target":"log_line_format","service":"other","environment":"dev","version":"1.0","trace_id":"X","span_id":"X","b":true,"big":"340282366920938463463374607431768211455","card":"[REDACTED]","error":"Bearer [REDACTED]","f":1.5,"fields.level":"spanlevel","name":"inner","nan":null,"neg":-1234567890123,"password":"[REDACTED]","request_id":"r1","shared":"inner","type":"\"t\"","z_last":"late"}"#,
            r#"{"timestamp":"X","level":"WARN","message":"no span","target":"custom::target","service":"svc","environment":"dev","version":"1.0"}"#,
            r#"{"timestamp":"X","level":"INFO","message":"dup timestamp","target":"log_line_format","service":"svc","environment":"dev","version":"1.0","fields.timestamp":"fake"}"#,
            r#"{"timestamp":"X","level":"INFO","message":"forged","target":"log_line_format","service":"svc","environment":"dev","version":"1.0","fields.level":"Authorization: [REDACTED]","fields.target":"postgres://app:[REDACTED]@db","fields.trace_id":"upstream-7"}"#,
        ]
    );
    // The ids are the OpenTelemetry ones: 32 and 16 lowercase hex digits.
    let first: serde_json::Value = serde_json::from_str(&buffer.lines()[0]).unwrap();
    for (key, len) in [("trace_id", 32), ("span_id", 16)] {
        let id = first[key].as_str().unwrap();
        assert_eq!(id.len(), len, "{key}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{key}: {id}"
        );
    }
}
