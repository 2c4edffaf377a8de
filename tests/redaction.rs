//! No secret reaches a span field, an event or a metric label unless asked
//! for: secret-named arguments, `redact(...)`, `Sensitive<T>`, `secrecy`
//! secrets, secret-named fields inside `Debug` text, and error messages.
//! Every secret below is a distinctive string that would be found if it leaked.

mod support;

use observe::{Sensitive, observe};
use secrecy::SecretString;
use support::capture;

const SECRETS: &[&str] = &[
    "hunter2-pw",
    "tok_live_9f8e7d",
    "4111111111111111",
    "sk_apikey_123",
    "cookie-session-abc",
    "pin-9876",
    "sensitive-ssn-123",
    "secrecy-secret-xyz",
    "nested-pass-777",
    "error-token-555",
    "explicit-redact-888",
    "field-secret-999",
];

fn assert_no_leak(text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "secret {secret} leaked into:\n{text}"
        );
    }
}

#[allow(dead_code)]
#[derive(Debug)]
struct Credentials {
    user: String,
    password: String,
}

#[derive(Debug)]
#[allow(dead_code)]
struct Login {
    account: Credentials,
    remember: bool,
}

#[derive(Debug)]
struct AuthError {
    detail: String,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "login rejected: {}", self.detail)
    }
}

#[allow(clippy::too_many_arguments)]
#[observe(flow = "login", redact(note), fields(client_secret = client_secret.as_str(), attempt = attempt))]
fn login(
    user: &str,
    password: &str,
    access_token: String,
    card_number: &str,
    api_key: &str,
    cookie: &str,
    pin: &str,
    ssn: Sensitive<String>,
    vault: SecretString,
    login: &Login,
    note: &str,
    client_secret: String,
    attempt: u32,
) -> Result<(), AuthError> {
    let _ = (
        password,
        access_token,
        card_number,
        api_key,
        cookie,
        pin,
        ssn,
        vault,
        login,
        note,
        client_secret,
    );
    if user == "mallory" {
        return Err(AuthError {
            detail: "token=error-token-555 rejected".into(),
        });
    }
    let _ = attempt;
    Ok(())
}

fn call(user: &str) -> Result<(), AuthError> {
    let login_request = Login {
        account: Credentials {
            user: user.into(),
            password: "nested-pass-777".into(),
        },
        remember: true,
    };
    login(
        user,
        "hunter2-pw",
        "tok_live_9f8e7d".into(),
        "4111111111111111",
        "sk_apikey_123",
        "cookie-session-abc",
        "pin-9876",
        Sensitive::new("sensitive-ssn-123".to_string()),
        SecretString::from("secrecy-secret-xyz"),
        &login_request,
        "explicit-redact-888",
        "field-secret-999".into(),
        1,
    )
}

#[test]
fn secrets_never_reach_spans_events_or_metrics() {
    let (_, captured) = capture(|| {
        call("ann").unwrap();
        call("mallory").unwrap_err();
    });
    assert_no_leak(&captured.all_text());

    let span = captured.spans_named("login")[0];
    for name in [
        "password",
        "access_token",
        "card_number",
        "api_key",
        "cookie",
        "pin",
        "note",
        "client_secret",
    ] {
        assert_eq!(span.str(name), Some("[REDACTED]"), "{name}");
    }
    assert_eq!(span.str("ssn"), Some("[REDACTED]"));
    assert_eq!(
        span.str("user"),
        Some("ann"),
        "ordinary arguments are recorded"
    );
    assert_eq!(span.field("attempt"), Some(&serde_json::json!(1)));
    let login = span.str("login").unwrap();
    assert!(
        login.contains("user: \"ann\"") && login.contains("password: \"[REDACTED]\""),
        "{login}"
    );
    assert!(span.str("vault").unwrap().contains("[REDACTED]"));

    let failed = captured
        .completions()
        .into_iter()
        .find(|e| e.str("outcome") == Some("error"))
        .unwrap();
    assert_eq!(
        failed.str("error.message"),
        Some("login rejected: token=[REDACTED] rejected")
    );
}

#[test]
fn long_values_are_truncated() {
    #[observe]
    fn upload(payload: &str) -> usize {
        payload.len()
    }
    let payload = "x".repeat(10_000);
    let (_, captured) = capture(|| upload(&payload));
    let recorded = captured.spans_named("upload")[0]
        .str("payload")
        .unwrap()
        .to_string();
    assert!(
        recorded.len() <= observe::redact::MAX_TEXT_LEN + 3,
        "{}",
        recorded.len()
    );
    assert!(recorded.ends_with('…'));
}

#[observe(hash(email))]
fn subscribe(email: &str, plan: &str) -> bool {
    !email.is_empty() && !plan.is_empty()
}

#[test]
fn hashed_arguments_are_stable_surrogates() {
    let (_, first) = capture(|| {
        subscribe("ann@example.com", "pro");
        subscribe("bob@example.com", "pro");
    });
    let (_, second) = capture(|| subscribe("ann@example.com", "free"));
    let spans = first.spans_named("subscribe");
    let ann = spans[0].str("email").unwrap();
    let bob = spans[1].str("email").unwrap();
    assert_eq!(ann.len(), 16);
    assert!(ann.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(ann, bob);
    assert_eq!(
        second.spans_named("subscribe")[0].str("email"),
        Some(ann),
        "same input, same surrogate"
    );
    assert!(!first.all_text().contains("ann@example.com"));
}

#[test]
fn short_hash_keys_are_refused() {
    // Refused keys are never installed, so this does not affect the other
    // tests' hashes.
    assert_eq!(
        observe::set_hash_key(Vec::new()),
        Err(observe::HashKeyError::TooShort { len: 0 })
    );
    let error = observe::set_hash_key(b"short-key".to_vec()).unwrap_err();
    assert_eq!(error, observe::HashKeyError::TooShort { len: 9 });
    assert!(
        error.to_string().contains("at least 16"),
        "a clear error: {error}"
    );
}

/// Names the issue found recorded raw, in snake_case and camelCase.
#[observe(flow = "names")]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn names(
    pwd: &str,
    user_pass: &str,
    passphrase: &str,
    session_key: &str,
    sessionid: &str,
    otp: &str,
    iban: &str,
    account_number: &str,
    cardNumber: &str,
    userPin: &str,
    authToken: &str,
    company: &str,
    passenger: &str,
) -> usize {
    [
        pwd,
        user_pass,
        passphrase,
        session_key,
        sessionid,
        otp,
        iban,
        account_number,
        cardNumber,
        userPin,
        authToken,
        company,
        passenger,
    ]
    .iter()
    .map(|s| s.len())
    .sum()
}

#[test]
fn names_are_split_into_words() {
    let (_, captured) = capture(|| {
        names(
            "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "acme", "two",
        )
    });
    let span = captured.spans_named("names")[0];
    for name in [
        "pwd",
        "user_pass",
        "passphrase",
        "session_key",
        "sessionid",
        "otp",
        "iban",
        "account_number",
        "cardNumber",
        "userPin",
        "authToken",
    ] {
        assert_eq!(span.str(name), Some("[REDACTED]"), "{name}");
    }
    assert_eq!(span.str("company"), Some("acme"));
    assert_eq!(span.str("passenger"), Some("two"));
}
