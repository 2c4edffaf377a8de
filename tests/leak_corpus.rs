//! The leak corpus: every secret kind in every container, through every
//! path a value takes out of the process. The table is secret kinds (each
//! format the scrubber knows, plus an opaque random password) times
//! containers (annotated functions that record the secret as an argument,
//! a struct field, a map entry, a JSON body, a header line, a URL, an error,
//! a return value, a `fields(...)` value, an event of the user's...), run
//! through the paths:
//!
//! - a capturing subscriber and an in-memory metrics recorder (what the
//!   generated code records);
//! - `observe::init` with `LogWriter::memory()`: the JSON lines, the flight
//!   recorder (`/debug/traces`), the Prometheus text and a real OTLP/gRPC
//!   receiver on loopback;
//! - the same with pretty log lines (in a child process: `init` is once per
//!   process).
//!
//! Every secret has at least 16 random characters beside any fixed vendor
//! prefix; no 8-character piece of that random part may appear in what a
//! path captured. The ordinary values of issue 7 must come out unchanged.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use observe::observe;
use observe_runtime::redact::{FORMAT_CAP, MAX_TEXT_LEN};
use serde_json::Value;
use support::capture;

// ---- secrets ----

/// A small deterministic generator: the corpus is the same on every run,
/// so a failure can be reproduced.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick(&mut self, charset: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| charset[(self.next() % charset.len() as u64) as usize] as char)
            .collect()
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DIGITS: &[u8] = b"0123456789";

/// One secret: its kind, the text as a program would hold it, the random
/// part whose pieces must never be seen, and whether it is recognisable on
/// its own (without a secret-named key around it).
#[derive(Debug, Clone)]
struct Secret {
    kind: &'static str,
    text: String,
    random: String,
    self_identifying: bool,
}

fn luhn_completed(partial: &str) -> String {
    let sum: u32 = partial
        .bytes()
        .rev()
        .enumerate()
        .map(|(n, b)| {
            let d = u32::from(b - b'0');
            if n % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    format!("{partial}{}", (10 - sum % 10) % 10)
}

fn grouped(digits: &str, sizes: &[usize], separator: &str) -> String {
    let mut groups = Vec::new();
    let mut rest = digits;
    for &size in sizes {
        let (group, tail) = rest.split_at(size.min(rest.len()));
        groups.push(group);
        rest = tail;
    }
    groups.join(separator)
}

fn iban(rng: &mut Rng) -> (String, String) {
    let account = rng.pick(DIGITS, 18);
    let mut remainder = 0u32;
    for c in account.bytes().chain(*b"DE00") {
        remainder = if c.is_ascii_digit() {
            (remainder * 10 + u32::from(c - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(c - b'A' + 10)) % 97
        };
    }
    (format!("DE{:02}{account}", 98 - remainder), account)
}

fn secrets() -> Vec<Secret> {
    let mut rng = Rng(0x5EC2_E75E_C2E7_5EC2);
    let mut out = Vec::new();
    let mut add = |kind, text: String, random: String, self_identifying| {
        out.push(Secret {
            kind,
            text,
            random,
            self_identifying,
        })
    };
    for (kind, separator, sizes) in [
        ("card", "", &[16][..]),
        ("card spaced", " ", &[4, 4, 4, 4][..]),
        ("card dashed", "-", &[4, 4, 4, 4][..]),
        ("card dotted", ".", &[4, 4, 4, 4][..]),
        ("card double-spaced", "  ", &[4, 4, 4, 4][..]),
    ] {
        let digits = luhn_completed(&format!("4{}", rng.pick(DIGITS, 14)));
        let text = grouped(&digits, sizes, separator);
        add(kind, text.clone(), text[1..].to_string(), true);
    }
    let amex = luhn_completed(&format!("37{}", rng.pick(DIGITS, 12)));
    let amex = grouped(&amex, &[4, 6, 5], " ");
    add("amex", amex.clone(), amex[2..].to_string(), true);
    let ssn = format!(
        "{}-{}-{}",
        rng.pick(b"12345678", 3),
        rng.pick(b"123456789", 2),
        rng.pick(b"123456789", 4)
    );
    add("ssn", ssn.clone(), ssn, true);
    let (text, random) = iban(&mut rng);
    add("iban", text, random, true);
    let body = rng.pick(UPPER_DIGITS, 16);
    add("aws key id", format!("AKIA{body}"), body, true);
    let body = rng.pick(ALNUM, 36);
    add("github", format!("ghp_{body}"), body, true);
    let body = rng.pick(ALNUM, 82);
    add("github pat", format!("github_pat_{body}"), body, true);
    let body = rng.pick(ALNUM, 24);
    add("slack", format!("xoxb-123456789012-{body}"), body, true);
    let body = rng.pick(ALNUM, 24);
    add("stripe", format!("sk_live_{body}"), body, true);
    let body = rng.pick(BASE64URL, 35);
    add("google", format!("AIza{body}"), body, true);
    let body = rng.pick(BASE64URL, 48);
    add("openai", format!("sk-proj-{body}"), body, true);
    let claims = rng.pick(BASE64URL, 24);
    let signature = rng.pick(BASE64URL, 43);
    add(
        "jwt",
        format!("eyJhbGciOiJIUzI1NiJ9.eyJ{claims}.{signature}"),
        format!("{claims}.{signature}"),
        true,
    );
    let body = rng.pick(ALNUM, 64);
    add(
        "pem",
        format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----"),
        body,
        true,
    );
    let body = rng.pick(ALNUM, 32);
    add("bearer", format!("Bearer {body}"), body, true);
    let body = rng.pick(ALNUM, 20);
    add(
        "url password",
        format!("postgres://app:{body}@db/prod"),
        body,
        true,
    );
    let body = rng.pick(ALNUM, 24);
    add("opaque", body.clone(), body, false);
    out
}

// ---- containers ----

#[allow(dead_code)]
#[derive(Debug, Clone)]
struct Login {
    user: String,
    password: String,
}

#[allow(dead_code)]
#[derive(Debug)]
struct Outer {
    id: u32,
    inner: Login,
}

#[allow(dead_code)]
#[derive(Debug)]
struct Creds {
    user: String,
    token: Option<String>,
}

#[allow(dead_code, non_snake_case)]
#[derive(Debug)]
struct Payment {
    amount: u64,
    cardNumber: String,
}

#[allow(dead_code)]
#[derive(Debug)]
struct Req {
    body: String,
}

#[derive(Debug)]
struct LoginError(String);

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "login rejected: password={}", self.0)
    }
}

#[derive(Debug)]
struct UpstreamError(String);

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "upstream said: {}", self.0)
    }
}

fn login(secret: &str) -> Login {
    Login {
        user: "ann".into(),
        password: secret.into(),
    }
}

#[observe]
fn arg_snake(user: &str, password: &str) -> usize {
    user.len() + password.len()
}

#[observe]
#[allow(non_snake_case)]
fn arg_camel(userName: &str, apiKey: &str) -> usize {
    userName.len() + apiKey.len()
}

#[observe]
fn debug_struct(login: &Login) -> usize {
    login.password.len()
}

#[observe]
fn nested_struct(request: &Outer) -> u32 {
    request.id
}

#[observe]
fn option_field(creds: &Creds) -> bool {
    creds.token.is_some()
}

#[observe]
fn camel_field(payment: &Payment) -> u64 {
    payment.amount
}

#[observe]
fn map_entries(headers: &BTreeMap<String, String>) -> usize {
    headers.len()
}

#[observe]
fn pairs(form: &[(&str, String)]) -> usize {
    form.len()
}

#[observe]
fn json_text(body: &str) -> usize {
    body.len()
}

#[observe]
fn escaped_json(request: &Req) -> usize {
    request.body.len()
}

#[observe]
fn query_string(query: &str) -> usize {
    query.len()
}

#[observe]
fn header_line(header: &str) -> usize {
    header.len()
}

#[observe]
fn url(url: &str) -> usize {
    url.len()
}

#[observe]
fn error_display(password: &str) -> Result<(), LoginError> {
    Err(LoginError(password.to_string()))
}

#[observe]
fn error_self_identifying(attempt: &str) -> Result<(), UpstreamError> {
    Err(UpstreamError(attempt.to_string()))
}

#[observe(ret, skip(secret))]
fn ret_value(secret: &str) -> Login {
    login(secret)
}

#[observe(ret, skip(secret))]
fn ret_text(secret: &str) -> String {
    format!("issued {secret}")
}

#[observe(skip(secret), fields(api_key = %secret, note = %format!("password={secret}")))]
fn fields_display(secret: &str) -> usize {
    secret.len()
}

#[observe(skip(secret), fields(login = ?login(secret), token = ?Some(secret)))]
fn fields_debug(secret: &str) -> usize {
    secret.len()
}

#[observe]
fn plain_argument(note: &str) -> usize {
    note.len()
}

#[observe]
fn long_value(payload: &str) -> usize {
    payload.len()
}

/// The user's own events inside an annotated function.
#[observe(skip(secret))]
fn user_events(secret: &str) -> usize {
    tracing::info!(target: "leak_corpus::user", password = %secret, "checking the password");
    tracing::warn!(target: "leak_corpus::user", detail = ?login(secret), "login looked odd");
    secret.len()
}

/// The user's own events in the shapes a review found leaking: `{:#?}`
/// pairs, and fields named like the line's own metadata.
#[observe(skip(secret))]
fn user_events_odd_shapes(secret: &str) -> usize {
    tracing::info!(target: "leak_corpus::user", "form: {:#?}", [("user", "ann"), ("password", secret)]);
    tracing::info!(
        target: "leak_corpus::user",
        level = %format!("password={secret}"),
        timestamp = %format!("token={secret}"),
        target = %format!("postgres://app:{secret}@db"),
        "forged metadata"
    );
    secret.len()
}

#[observe(skip(secret))]
fn user_events_self_identifying(secret: &str) -> usize {
    tracing::info!(target: "leak_corpus::user", note = %secret, "received {secret}");
    secret.len()
}

/// The cases the macro change of the integrator covers (destructured
/// parameters, `fields(k = expr)`, integers holding card numbers).
mod macro_side {
    use super::*;

    #[allow(dead_code)]
    pub struct Credentials {
        pub user: String,
        pub password: String,
    }

    #[observe]
    pub fn destructured(Credentials { user, password: pw }: Credentials) -> usize {
        user.len() + pw.len()
    }

    #[observe(skip(secret), fields(note = secret))]
    pub fn bare_field(secret: &str) -> usize {
        secret.len()
    }

    #[observe]
    pub fn integer(number: u64) -> u64 {
        number
    }
}

// ---- the table ----

/// One row of the table: which container got which secret.
#[derive(Debug, Clone)]
struct Case {
    container: &'static str,
    secret: Secret,
}

/// Runs every container with every secret it applies to, and returns the
/// rows. Containers that put the secret under a secret-named key take
/// every kind; the others only the self-identifying ones.
fn run_corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    for secret in secrets() {
        let s = secret.text.as_str();
        let mut case = |container: &'static str, run: &dyn Fn()| {
            run();
            cases.push(Case {
                container,
                secret: secret.clone(),
            });
        };
        case("argument, snake_case name", &|| {
            arg_snake("ann", s);
        });
        case("argument, camelCase name", &|| {
            arg_camel("ann", s);
        });
        case("struct field (Debug)", &|| {
            debug_struct(&login(s));
        });
        case("nested struct", &|| {
            nested_struct(&Outer {
                id: 7,
                inner: login(s),
            });
        });
        case("Option field", &|| {
            option_field(&Creds {
                user: "ann".into(),
                token: Some(s.into()),
            });
        });
        case("camelCase struct field", &|| {
            camel_field(&Payment {
                amount: 42,
                cardNumber: s.into(),
            });
        });
        case("map with secret keys", &|| {
            let headers = BTreeMap::from([
                ("accept".to_string(), "text/plain".to_string()),
                ("x-api-key".to_string(), s.to_string()),
            ]);
            map_entries(&headers);
        });
        case("pairs", &|| {
            pairs(&[("user", "ann".into()), ("password", s.into())]);
        });
        case("JSON text", &|| {
            json_text(&serde_json::json!({"user": "ann", "password": s}).to_string());
        });
        case("escaped JSON in a struct's Debug", &|| {
            escaped_json(&Req {
                body: serde_json::json!({"user": "ann", "pinCode": s}).to_string(),
            });
        });
        case("query string", &|| {
            query_string(&format!("user=ann&password={s}&page=2"));
        });
        case("percent-encoded query string", &|| {
            query_string(&format!("next=%2Fhome%26token%3D{s}%26page%3D2"));
        });
        case("header line", &|| {
            header_line(&format!("Authorization: Bearer {s}"));
        });
        case("cookie header", &|| {
            header_line(&format!("Cookie: theme=dark; sessionid={s}"));
        });
        case("URL user-info", &|| {
            url(&format!("postgres://app:{s}@db/prod"));
        });
        case("error Display", &|| {
            let _ = error_display(s);
        });
        case("ret (Debug)", &|| {
            ret_value(s);
        });
        case("fields(k = %v)", &|| {
            fields_display(s);
        });
        case("fields(k = ?v)", &|| {
            fields_debug(s);
        });
        case("user's own info!/warn!", &|| {
            user_events(s);
        });
        case(
            "user's own event: {:#?} pairs, fields named level/timestamp/target",
            &|| {
                user_events_odd_shapes(s);
            },
        );
        case("command-line flag", &|| {
            plain_argument(&format!("/usr/bin/worker --db-password={s} --verbose"));
        });
        case("command line, flag and value apart", &|| {
            plain_argument(&format!("mysql -u root --password {s} --host db"));
        });
        case("YAML, value on the next line", &|| {
            plain_argument(&format!("db:\n  password:\n    {s}\n  host: db"));
        });
        case("JSON key with a leading underscore", &|| {
            json_text(&format!(r#"{{"_token": "{s}", "n": 1}}"#));
        });
        case("map key with dots", &|| {
            let settings = BTreeMap::from([
                ("db.host".to_string(), "db".to_string()),
                ("db.password".to_string(), s.to_string()),
            ]);
            map_entries(&settings);
        });
        case("URL user-info holding a slash", &|| {
            url(&format!("postgres://app:pa/{s}@db/prod"));
        });
        if !secret.self_identifying {
            continue;
        }
        case("non-secret-named argument", &|| {
            plain_argument(s);
        });
        case("error Display, no key", &|| {
            let _ = error_self_identifying(s);
        });
        case("ret (text)", &|| {
            ret_text(s);
        });
        case("user's own event, no key", &|| {
            user_events_self_identifying(s);
        });
        // A cut inside the secret: at the recorded length, and at the
        // formatting cap.
        for limit in [MAX_TEXT_LEN, FORMAT_CAP] {
            for into in [3, 8, s.len() / 2, s.len() - 2] {
                let payload = format!("{} {s} tail", "y".repeat(limit - into - 1));
                case(
                    if limit == MAX_TEXT_LEN {
                        "long value cut inside the secret"
                    } else {
                        "long value cut at the formatting cap"
                    },
                    &|| {
                        long_value(&payload);
                    },
                );
            }
        }
    }
    cases
}

/// The macro-side rows (see [`macro_side`]).
fn run_macro_side_corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    for secret in secrets() {
        let s = secret.text.as_str();
        macro_side::destructured(macro_side::Credentials {
            user: "ann".into(),
            password: s.into(),
        });
        cases.push(Case {
            container: "destructured parameter",
            secret: secret.clone(),
        });
        if secret.self_identifying {
            macro_side::bare_field(&format!("{} {s}", "y".repeat(MAX_TEXT_LEN - 6)));
            cases.push(Case {
                container: "fields(k = v), long",
                secret: secret.clone(),
            });
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        if secret.kind.starts_with("card") || secret.kind == "amex" {
            macro_side::integer(digits.parse().unwrap());
            cases.push(Case {
                container: "integer argument",
                secret: Secret {
                    random: digits[1..].to_string(),
                    ..secret.clone()
                },
            });
        }
    }
    cases
}

/// The cases an 8-character piece of whose random part is in `output`,
/// with the piece. One pass over the output: every piece of every case is
/// looked up in a map.
fn leaks(cases: &[Case], output: &str) -> Vec<String> {
    let mut pieces: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (index, case) in cases.iter().enumerate() {
        for piece in case.secret.random.as_bytes().windows(8) {
            pieces.entry(piece).or_default().push(index);
        }
    }
    let mut seen: BTreeMap<usize, &[u8]> = BTreeMap::new();
    for window in output.as_bytes().windows(8) {
        if let Some(indices) = pieces.get(window) {
            for &index in indices {
                seen.entry(index).or_insert(window);
            }
        }
    }
    seen.into_iter()
        .map(|(index, piece)| {
            format!(
                "{} in {}: {:?}",
                cases[index].secret.kind,
                cases[index].container,
                String::from_utf8_lossy(piece)
            )
        })
        .collect()
}

fn assert_no_leaks(path: &str, cases: &[Case], output: &str) {
    assert!(!output.is_empty(), "{path}: nothing captured");
    let found = leaks(cases, output);
    println!("{path}: {} cases, leaks: {}", cases.len(), found.len());
    // Where each distinct piece was seen, to see which record leaked it.
    let mut context = Vec::new();
    for leak in &found {
        let piece = leak.rsplit(": ").next().unwrap().trim_matches('"');
        if let Some(at) = output.find(piece) {
            let mut from = at.saturating_sub(160);
            while !output.is_char_boundary(from) {
                from -= 1;
            }
            let mut to = (at + 80).min(output.len());
            while !output.is_char_boundary(to) {
                to += 1;
            }
            let seen = format!("…{}…", &output[from..to]);
            if !context.contains(&seen) {
                context.push(seen);
            }
        }
    }
    assert!(
        found.is_empty(),
        "{path} leaked:\n{}\n\nseen in:\n{}",
        found.join("\n"),
        context.join("\n")
    );
}

// ---- ordinary values ----

/// The values of issue 7 that must be recorded unchanged.
const ORDINARY_TEXT: &[&str] = &[
    "blue-widget",
    "order 42",
    "6f9619ff-8b86-d011-b42d-00c04fc964ff",
    "2026-12-01T21:50:00.123Z",
    "api.eu-west-1.example.com",
    "1.2.3.4",
    "4111.11",
    "Basic plan",
    "Token ring",
];

/// Unix time in ms and ns, and `u64` ids.
const ORDINARY_NUMBERS: &[u64] = &[
    1_764_625_800_123,
    1_764_625_800_123_456_789,
    18_446_744_073_709_551_615,
    9_007_199_254_740_993,
    42,
];

#[observe]
fn ordinary_text(value: &str) -> usize {
    value.len()
}

#[observe]
fn ordinary_number(value: u64) -> u64 {
    value
}

#[observe]
fn ordinary_amount(value: f64) -> f64 {
    value
}

fn run_ordinary() {
    for value in ORDINARY_TEXT {
        ordinary_text(value);
    }
    for value in ORDINARY_NUMBERS {
        ordinary_number(*value);
    }
    ordinary_amount(4111.11);
}

/// The `value` each ordinary call recorded, in call order, as text.
fn expected_ordinary() -> Vec<String> {
    ORDINARY_TEXT
        .iter()
        .map(|v| v.to_string())
        .chain(ORDINARY_NUMBERS.iter().map(u64::to_string))
        .chain(["4111.11".to_string()])
        .collect()
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

// ---- path 1: what the generated code records ----

#[test]
fn corpus_under_a_capturing_subscriber() {
    let (cases, captured) = capture(|| {
        let cases = run_corpus();
        run_ordinary();
        cases
    });
    // The user's own events reach a foreign subscriber as the user wrote
    // them (the scrubbing of `observe::init` is not there); everything
    // observe records is checked.
    let (users, ours): (Vec<_>, Vec<_>) = captured
        .events
        .iter()
        .partition(|e| e.target == "leak_corpus::user");
    let mut output = String::new();
    for span in &captured.spans {
        output.push_str(&format!("{} {:?}\n", span.name, span.fields));
    }
    for event in &ours {
        output.push_str(&format!("{:?}\n", event.fields));
    }
    for series in &captured.series {
        output.push_str(&format!("{} {:?}\n", series.name, series.labels));
    }
    assert_no_leaks("capturing subscriber", &cases, &output);

    let users = format!("{users:?}");
    let opaque = secrets().into_iter().find(|s| s.kind == "opaque").unwrap();
    assert!(
        users.contains(&opaque.text),
        "a foreign subscriber sees the user's own events unredacted"
    );

    let recorded: Vec<String> = captured
        .spans
        .iter()
        .filter(|s| s.name.starts_with("ordinary_"))
        .map(|s| as_text(s.field("value").unwrap()))
        .collect();
    assert_eq!(recorded, expected_ordinary());
}

#[test]

fn macro_side_corpus_under_a_capturing_subscriber() {
    let (cases, captured) = capture(run_macro_side_corpus);
    assert_no_leaks(
        "capturing subscriber, macro side",
        &cases,
        &captured.all_text(),
    );
    let bare = captured.spans_named("bare_field");
    assert!(
        bare.iter()
            .all(|s| s.str("note").unwrap().len() <= MAX_TEXT_LEN + '…'.len_utf8()),
        "fields(k = v) text is cut"
    );
}

// ---- paths 2 to 5: observe::init ----

#[path = "support/otlp.rs"]
mod otlp;

/// Which log format the child process runs with.
const FORMAT_ENV: &str = "OBSERVE_LEAK_CORPUS_FORMAT";

#[test]
fn corpus_under_observe_init() {
    let pretty = std::env::var(FORMAT_ENV).is_ok_and(|f| f == "pretty");
    // SAFETY: set before observe::init starts its threads.
    unsafe {
        for var in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_TRACES_SAMPLER",
            "OBSERVE_LOG_FORMAT",
            "RUST_LOG",
        ] {
            std::env::remove_var(var);
        }
    }
    let receiver = otlp::Receiver::default();
    let (endpoint, otlp_runtime) = receiver.start();
    let (log_writer, logs) = observe::LogWriter::memory();
    let telemetry = observe::Telemetry::builder()
        .service_name("leak-corpus")
        .log_writer(log_writer)
        .log_format(if pretty {
            observe::LogFormat::Pretty
        } else {
            observe::LogFormat::Json
        })
        .colour(false)
        .log_filter("info")
        .otlp_endpoint(endpoint)
        .otlp_protocol(observe::OtlpProtocol::Grpc)
        .traces_sampler(observe::SamplerConfig::AlwaysOn)
        .flight_recorder(observe::FlightRecorderConfig {
            capacity: 100_000,
            max_pending: 100_000,
            sample_rate: 1.0,
            ..Default::default()
        })
        .try_init()
        .expect("init");

    let cases = run_corpus();
    run_ordinary();
    // The program's own metrics: their label values are redacted too.
    for case in &cases {
        let s = case.secret.text.as_str();
        metrics::counter!("upstream_calls_total", "api_key" => s.to_owned(), "upstream" => format!("postgres://app:{s}@db"))
            .increment(1);
    }
    telemetry.force_flush();

    let log_text = logs.text();
    if pretty {
        assert_no_leaks("observe::init, pretty log lines", &cases, &log_text);
        return;
    }
    assert_no_leaks("observe::init, JSON log lines", &cases, &log_text);
    let lines: Vec<serde_json::Map<String, Value>> = logs
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    // The user's own events went through the same redaction.
    let user_lines = lines
        .iter()
        .filter(|l| l["target"] == "leak_corpus::user")
        .count();
    assert!(user_lines >= 2 * secrets().len(), "{user_lines}");
    let recorded: Vec<String> = lines
        .iter()
        .filter(|l| {
            l.get("function")
                .and_then(Value::as_str)
                .is_some_and(|f| f.starts_with("ordinary_"))
        })
        .map(|l| as_text(&l["value"]))
        .collect();
    assert_eq!(recorded, expected_ordinary(), "JSON lines");

    let recorder = telemetry.flight_recorder().expect("a flight recorder");
    recorder.settle_all();
    let traces: Vec<Value> = recorder.traces().iter().map(|t| t.to_json()).collect();
    assert!(traces.len() >= cases.len(), "{} traces kept", traces.len());
    let document = format!("{}\n{}", Value::Array(traces), recorder.to_json(1_000));
    assert_no_leaks("observe::init, flight recorder", &cases, &document);

    let prometheus = observe::metrics_handle()
        .expect("a Prometheus handle")
        .render();
    assert_no_leaks("observe::init, Prometheus", &cases, &prometheus);

    let requests = receiver.traces.lock().unwrap().clone();
    let spans: Vec<_> = requests
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    assert!(spans.len() >= cases.len(), "{} spans exported", spans.len());
    assert_no_leaks(
        "observe::init, OTLP receiver",
        &cases,
        &format!("{requests:?}"),
    );
    let exported: Vec<String> = spans
        .iter()
        .filter(|s| s.name.starts_with("ordinary_"))
        .map(|s| {
            let value = s.attributes.iter().find(|kv| kv.key == "value").unwrap();
            match value.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(AnyValue::StringValue(s)) => s.clone(),
                Some(AnyValue::IntValue(i)) => i.to_string(),
                Some(AnyValue::DoubleValue(d)) => d.to_string(),
                other => format!("{other:?}"),
            }
        })
        .collect();
    let mut sorted = exported.clone();
    sorted.sort();
    let mut expected = expected_ordinary();
    expected.sort();
    assert_eq!(sorted, expected, "OTLP span attributes");
    drop(telemetry);
    otlp_runtime.shutdown_background();

    // Pretty lines: the same corpus in a process of its own.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["corpus_under_observe_init", "--exact", "--nocapture"])
        .env(FORMAT_ENV, "pretty")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    assert!(
        stdout.contains("pretty log lines: ") && stdout.contains("leaks: 0"),
        "{stdout}"
    );
    print!(
        "{}",
        stdout
            .lines()
            .filter(|l| l.contains("leaks:"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!();
}

use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
