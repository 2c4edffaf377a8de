//! The scrubber against the leaks of issue 7, the values it must leave
//! alone, and a property test: random secrets of every kind, in random
//! containers and text, cut at random points, never show 8 characters.

use std::borrow::Cow;

use proptest::prelude::*;

use super::truncate::finish;
use super::*;

fn assert_masked(text: &str, secret: &str) {
    let out = scrub(text);
    assert!(
        !out.contains(secret),
        "{secret} survived in {out:?} (from {text:?})"
    );
    assert!(out.contains(REDACTED), "{out}");
    assert_eq!(scrub(&out), out, "scrubbing is idempotent");
}

#[test]
fn http_credentials() {
    for (text, secret) in [
        ("authorization: Bearer abcdefgh12345678", "abcdefgh"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpw"),
        ("authorization: Token abcdefgh12345678", "abcdefgh"),
        ("Proxy-Authorization: Bearer abcdefgh12345678", "abcdefgh"),
        ("Authorization Bearer short123", "short123"),
        ("Cookie: theme=dark; sessionid=abc123xyz789", "abc123xyz789"),
        ("Set-Cookie: sid=abc123xyz789; Path=/", "abc123xyz789"),
        (
            "GET / HTTP/1.1\r\nAuthorization: Digest username=\"a\", response=\"r3sp0ns3\"\r\nHost: x",
            "r3sp0ns3",
        ),
        (
            "sent Bearer abcdefghijklmnopqrstuvwxyz0123",
            "abcdefghijklmnop",
        ),
        (
            "header \"Authorization: Bearer abcdefgh12345678\\r\\nHost: x\"",
            "abcdefgh",
        ),
    ] {
        assert_masked(text, secret);
    }
    assert_eq!(
        scrub("authorization: Bearer abcdefgh12345678\nhost: api"),
        "authorization: [REDACTED]\nhost: api"
    );
    assert_eq!(
        scrub("Cookie: theme=dark; sessionid=abc123xyz789"),
        "Cookie: [REDACTED]"
    );
}

#[test]
fn key_value_syntaxes() {
    for text in [
        r#"Login { user: "ann", password: "hunter2hunter2" }"#,
        r#"{"password":"hunter2hunter2"}"#,
        r#"Req { body: "{\"password\":\"hunter2hunter2\"}" }"#,
        r#"Outer { inner: "Req { body: \"{\\\"password\\\":\\\"hunter2hunter2\\\"}\" }" }"#,
        "{'password': 'hunter2hunter2'}",
        r#"[("password", "hunter2hunter2")]"#,
        r#"password => "hunter2hunter2""#,
        "<password>hunter2hunter2</password>",
        r#"<user password="hunter2hunter2"/>"#,
        "/login?user=ann&password=hunter2hunter2&x=1",
        "q=a%26password%3Dhunter2hunter2%26x%3D1",
        "password%3Dhunter2hunter2",
        "X-Amz-Signature=hunter2hunter2&X-Amz-Date=1",
        r#"{"pinCode": "hunter2hunter2"}"#,
        r#"{"x-api-key": "hunter2hunter2"}"#,
        r#"{"X-Api-Key": "hunter2hunter2"}"#,
        "cardNumber: hunter2hunter2",
        "user_pass=hunter2hunter2",
        r#"Creds { token: Some("hunter2hunter2") }"#,
        r#"Req { auth: Creds { key: "hunter2hunter2" } }"#,
        "password: hunter2hunter2",
        "login rejected: password=Bearer hunter2hunter2",
    ] {
        assert_masked(text, "hunter2hunter2");
    }
    assert_eq!(
        scrub(r#"Req { body: "{\"password\":\"hunter2\"}" }"#),
        r#"Req { body: "{\"password\":\"[REDACTED]\"}" }"#
    );
    assert_eq!(
        scrub(r#"password => "hunter2""#),
        r#"password => "[REDACTED]""#
    );
    assert_eq!(
        scrub("<password>hunter2</password>"),
        "<password>[REDACTED]</password>"
    );
    assert_eq!(
        scrub(r#"[("password", "hunter2"), ("user", "ann")]"#),
        r#"[("password", "[REDACTED]"), ("user", "ann")]"#
    );
}

/// The shapes a review found leaking (2026-12-02): each masked, and its
/// whole secret gone.
#[test]
fn keys_in_flags_quotes_pretty_pairs_and_type_names() {
    for (text, secret) in [
        // A key that starts with dashes or underscores.
        (
            "/usr/bin/worker --db-password=CliFlagPw --api-key=CliFlagKey",
            "CliFlagPw",
        ),
        (
            "/usr/bin/worker --db-password=CliFlagPw --api-key=CliFlagKey",
            "CliFlagKey",
        ),
        (
            r#"{"_token": "LaravelCsrfTok", "_csrf": "x"}"#,
            "LaravelCsrfTok",
        ),
        (
            r#"{"_token": "x", "_csrf": "ExpressCsrfTok"}"#,
            "ExpressCsrfTok",
        ),
        (
            "__Secure-session=SecureCookieVal; Path=/",
            "SecureCookieVal",
        ),
        ("spawning worker --api-key=MsgLeak88xyz", "MsgLeak88xyz"),
        ("panicked: _token=PanicUnderscore06", "PanicUnderscore06"),
        // A quoted key with dots or spaces is one name.
        (r#"{"db.password": "DottedKeyPw", "n": 1}"#, "DottedKeyPw"),
        (r#"{"Secret Key": "SpacedKeySecret"}"#, "SpacedKeySecret"),
        (r#"{"api key": "SpacedApiKey1"}"#, "SpacedApiKey1"),
        (
            r#"Cfg { map: {"spring.datasource.password": "SpringPw12"} }"#,
            "SpringPw12",
        ),
        // A key and its value inside one string.
        (r#"{"note": "password: InsideStringPw"}"#, "InsideStringPw"),
        // `{:#?}` pairs, over lines.
        (
            "[\n    (\n        \"user\",\n        \"ann\",\n    ),\n    (\n        \"password\",\n        \"PrettyPairPw\",\n    ),\n]",
            "PrettyPairPw",
        ),
        // A bare value after `:`, `:=` or ` = ` holds spaces; `;` ends it
        // after `=`... but not what `;` leaves in a `: ` line.
        (
            "password: correct horse PassphraseTail08",
            "PassphraseTail08",
        ),
        ("password := GoAssignLeak10", "GoAssignLeak10"),
        ("password = correct horse IniTail11", "IniTail11"),
        // A secret-named tuple struct or variant.
        (
            r#"Creds { key: ApiToken("NewtypeApiToken") }"#,
            "NewtypeApiToken",
        ),
        (r#"Password("EnumVariantPw")"#, "EnumVariantPw"),
        // Names added to the list.
        (
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=AzureKey123==;EndpointSuffix=x",
            "AzureKey123",
        ),
        (
            "https://a.blob.core.windows.net/c?sv=2020&sig=SasSigValue123&se=1",
            "SasSigValue123",
        ),
        ("pw=ShortPwName1", "ShortPwName1"),
        ("passwort=GermanPw12", "GermanPw12"),
        ("accesskey=LowerAccessKey1", "LowerAccessKey1"),
        ("hmac_key=HmacKeyValue1", "HmacKeyValue1"),
        ("JSESSIONID=JavaSession12; Path=/", "JavaSession12"),
        ("PHPSESSID=PhpSession123", "PhpSession123"),
        ("seed_phrase: abandon ability SeedWords12", "SeedWords12"),
    ] {
        assert_masked(text, secret);
    }
    assert_eq!(
        scrub("run --db-password=hunter2 --verbose"),
        "run --db-password=[REDACTED] --verbose"
    );
    assert_eq!(
        scrub(r#"{"db.password": "hunter2", "db.host": "x"}"#),
        r#"{"db.password": "[REDACTED]", "db.host": "x"}"#
    );
    assert_eq!(scrub(r#"ApiToken("x1")"#), "ApiToken([REDACTED])");
    assert_eq!(
        scrub("Login { pin: 1234, user: \"ann\" }"),
        "Login { pin: [REDACTED], user: \"ann\" }"
    );
    assert_eq!(
        scrub("password: correct horse\nuser: ann"),
        "password: [REDACTED]\nuser: ann"
    );
}

/// The second review's shapes (2026-12-02).
#[test]
fn flags_lists_struct_like_types_yaml_and_tails() {
    for (text, secret) in [
        (
            "mysql -u root --password CliSpacePw --host db",
            "CliSpacePw",
        ),
        (r#"["mysql", "--password", "ArgvVecPw"]"#, "ArgvVecPw"),
        (
            r#"X="1" "mysql" "-u" "root" "--password" "CommandArgPw""#,
            "CommandArgPw",
        ),
        ("ALTER USER app WITH PASSWORD 'SqlAlterPw3'", "SqlAlterPw3"),
        (r#"Token { value: "StructLikeTok" }"#, "StructLikeTok"),
        (
            r#"Password { value: "StructVariantPw" }"#,
            "StructVariantPw",
        ),
        (
            r#"Credentials { user: "ann", key: "CredStructKey3" }"#,
            "CredStructKey3",
        ),
        (
            "db:\n  password:\n    YamlNextLinePw\n  host: x",
            "YamlNextLinePw",
        ),
        ("password: |\n  YamlBlock14\n  more\nnext: 1", "YamlBlock14"),
        ("password:\r\n  CrlfNext15", "CrlfNext15"),
        ("password=abc;defTail9xx", "defTail9xx"),
        ("password=Xy)SecretParen10", "SecretParen10"),
        ("password=ab\\cdBackslash11", "cdBackslash11"),
        (
            r#"{"url":"postgres:\/\/app:JsonSlashPw@db\/prod"}"#,
            "JsonSlashPw",
        ),
        (
            r#"{"spring.datasource.hikari.data-source-properties.primary.replica.password": "LongDottedKeyPw"}"#,
            "LongDottedKeyPw",
        ),
        ("kennwort=GermanKw1 contraseña=SpanishPw2", "GermanKw1"),
        ("kennwort=GermanKw1 contraseña=SpanishPw2", "SpanishPw2"),
        ("mot_de_passe=FrenchPw3", "FrenchPw3"),
        (
            r#""sk_live_abcdefghijklmnop1234 password": "AfterTokenKey""#,
            "AfterTokenKey",
        ),
        (
            r#""sk_live_abcdefghijklmnop1234 password": "AfterTokenKey""#,
            "abcdefghijklmnop",
        ),
    ] {
        assert_masked(text, secret);
    }
    // A connection string's next key still ends the value; a list ends at
    // its brackets.
    assert_eq!(
        scrub("Password=abc;Host=db;Port=5432"),
        "Password=[REDACTED];Host=db;Port=5432"
    );
    assert_eq!(
        scrub("auth: success (user=ann, role=admin) done"),
        "auth: [REDACTED]"
    );
}

#[test]
fn more_vendor_tokens() {
    let body = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5hJ7kL9mN1pQ3sT5vW7yZ9bC1dE3fG5hJ7";
    for (text, secret) in [
        (
            format!("key SG.{}.{} end", &body[..22], &body[22..65]),
            &body[..22],
        ),
        (format!("shopify shpat_{} end", &body[..32]), &body[..32]),
        (format!("Bearer-less ya29.{} end", &body[..40]), &body[..40]),
        (format!("do dop_v1_{} end", &body[..64]), &body[..64]),
        (
            format!("upload pypi-AgEIcHlwaS5vcmc{} end", &body[..50]),
            &body[..50],
        ),
        (
            format!(
                "post to https://hooks.slack.com/services/T0123ABCD/B0123ABCD/{}",
                &body[..24]
            ),
            &body[..24],
        ),
    ] {
        assert_masked(&text, secret);
    }
}

#[test]
fn raw_url_passwords_with_slashes_and_hashes() {
    for password in [
        "Slash/PwLeak09",
        "Hash#PwLeak09",
        "Query?PwLeak09",
        "Sup3r!Secr3t$Pa55*word",
    ] {
        assert_eq!(
            scrub(&format!("dsn postgres://app:{password}@db/prod")),
            "dsn postgres://app:[REDACTED]@db/prod",
            "{password}"
        );
    }
    // A port is not a password, and a path's `@` is not user-info.
    for text in [
        "http://localhost:8080/users/bob@example.com",
        "https://example.com/a:b@c",
        "http://[::1]:8080/x@y",
        "ssh://git@github.com:org/repo",
    ] {
        assert_eq!(scrub(text), text);
    }
}

/// A URL cut at the formatting cap before its `@`: its user-info goes.
#[test]
fn a_url_cut_before_its_at_loses_its_authority() {
    let text = "Settings { database_url: \"postgres://app:Sup3r!Secr3t$Pa55*word".to_string();
    let out = finish(text, true, 512);
    assert!(!out.contains("Sup3r"), "{out}");
    assert!(!out.contains("Pa55"), "{out}");
    assert!(out.contains("postgres://"), "{out}");
}

#[test]
fn urls_keep_the_user_and_lose_the_password() {
    assert_eq!(
        scrub("connecting to postgres://app:hunter2@db/prod"),
        "connecting to postgres://app:[REDACTED]@db/prod"
    );
    assert_masked(
        "https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x",
        "abcdefghijklmnop",
    );
    assert_masked("redis://:s3cr3tpassw0rd@cache:6379", "s3cr3tpassw0rd");
    // Found at the `://`: any scheme, however long or odd, and mid-word.
    let long_scheme = format!("{}://app:hunter2pass@db", "x".repeat(80));
    assert_masked(&long_scheme, "hunter2pass");
    assert_masked("git+ssh.v2-x://app:hunter2pass@db", "hunter2pass");
    assert_masked("url=jdbc:postgresql://app:hunter2pass@db", "hunter2pass");
}

/// Text that starts a word at every other byte (`a.a.a.…`, `a-a-a-…`)
/// scrubs unchanged. It is scanned once, not once per word start; were it
/// not, this test would take minutes (it asserts no time).
#[test]
fn dotted_and_dashed_runs_are_left_alone() {
    for unit in ["a.", "a-", "b.", "a://b."] {
        let text = unit.repeat(20_000);
        assert_eq!(scrub(&text), text);
    }
}

#[test]
fn self_identifying_formats() {
    for (text, secret) in [
        ("key AKIAIOSFODNN7EXAMPL2 end", "IOSFODNN7EXAMPL2"),
        ("ASIAY34FZKBOKMUTVV7A", "Y34FZKBOKMUTVV7A"),
        (
            "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",
            "wWPw5k4aXcaT4fNP",
        ),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            "11ABCDEFG0123456789",
        ),
        (
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "AbCdEfGhIjKlMnOp",
        ),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjt"),
        (
            "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
            "SyDaGmWKa4JsXZ-H",
        ),
        (
            "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
            "abcdefghijklmnop",
        ),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "eyJzdWIiOiIxMjM0",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyu\n-----END RSA PRIVATE KEY----- after",
            "MIIEpAIBAAKCAQEA",
        ),
        ("card 4111 1111 1111 1111 end", "4111 1111 1111 1111"),
        ("card 4111-1111-1111-1111 end", "4111-1111"),
        ("card 4111.1111.1111.1111 end", "4111.1111"),
        ("card 4111  1111  1111  1111 end", "1111  1111"),
        ("amex 3782 822463 10005", "822463"),
        ("ssn 123-45-6789", "123-45-6789"),
        ("iban DE89 3704 0044 0532 0130 00", "3704 0044"),
        ("iban GB82WEST12345698765432", "WEST12345698765432"),
        ("pin=4111 1111 1111 1111 end", "1111 1111"),
        ("password=DE89 3704 0044 0532 0130 00", "0044 0532"),
        (
            "Authorization: Bearer -----BEGIN PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyu\n-----END PRIVATE KEY-----",
            "MIIEpAIBAAKCAQEA",
        ),
        (
            "password=-----BEGIN PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyu\n-----END PRIVATE KEY-----",
            "MIIEpAIBAAKCAQEA",
        ),
    ] {
        assert_masked(text, secret);
    }
    assert!(
        scrub("-----BEGIN RSA PRIVATE KEY-----\nxyz\n-----END RSA PRIVATE KEY----- after")
            .ends_with("] after")
    );
}

/// The values issue 7 lists as ordinary: recorded unchanged.
const ORDINARY: &[&str] = &[
    "blue-widget",
    "order 42",
    "6f9619ff-8b86-d011-b42d-00c04fc964ff",
    "2026-12-01T21:50:00.123Z",
    "1764625800123",
    "1764625800123456789",
    "18446744073709551615",
    "1234567890123",
    "api.eu-west-1.example.com",
    "1.2.3.4",
    "4111.11",
    "Basic plan",
    "Token ring",
    "Bearer of bad news",
    "company: acme, author: bo, spin: 3, discard: true, passenger: 2, compass: N, bypass: no",
    "Order { id: 42, company: \"acme\", author: \"bo\" }",
    "a::b::c",
    "duration_ms=18.4111111111111111 total 0.4111111111111111",
    "token",
    "",
    "https://example.com/orders/42?page=2",
    "inside the footprint",
    "password: None, token: null",
    "http://localhost:8080/users/bob@example.com",
    "--verbose --dry-run",
    "Some(42) Ok(\"fine\")",
    r#"["password reset requested", "user@example.com"]"#,
    "--session-timeout=30 --auth-timeout=30 --token-limit=4096",
    r#"{"token_count": 5, "max_tokens": 1024, "prompt_tokens": 12}"#,
    "Token(Eof) Session(Expired) Card(Visa)",
    "https://registry.npmjs.org:/@scope/pkg/-/pkg-1.0.0.tgz",
    "git+https://github.com:org/pkg.git@main#egg=pkg",
    "http://localhost:8080/users/bob@example.com",
];

#[test]
fn ordinary_values_are_borrowed_unchanged() {
    for text in ORDINARY {
        let out = scrub(text);
        assert!(
            matches!(out, Cow::Borrowed(_)),
            "{text:?} changed to {out:?}"
        );
        assert_eq!(debug_text(&format_args!("{text}")), *text);
    }
}

#[test]
fn long_values_are_cut_at_a_char_boundary() {
    let long = "é".repeat(MAX_TEXT_LEN);
    let text = debug_text(&long);
    assert!(text.len() <= MAX_TEXT_LEN + '…'.len_utf8());
    assert!(text.ends_with('…'));
    let prose = "word ".repeat(400);
    let text = display_text(&prose);
    assert!(
        text.starts_with("word word") && text.ends_with('…'),
        "{text}"
    );
}

#[test]
fn a_secret_at_the_cut_loses_its_prefix() {
    // The issue's cases: the secret straddles the formatting cap, and the
    // final cut.
    for secret in [
        "4111111111111111",
        "4111 1111 1111 1111",
        "AKIAIOSFODNN7EXAMPL2",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    ] {
        for at in [FORMAT_CAP, MAX_TEXT_LEN] {
            for shift in 1..secret.len() {
                let text = format!("{} {secret} tail", "y".repeat(at - shift - 1));
                let out = display_text(&text);
                let kept = &secret[..shift.min(secret.len())];
                assert!(
                    kept.len() < 8 || !out.contains(kept),
                    "{kept} kept at {at}-{shift}: …{}",
                    &out[out.len().saturating_sub(40)..]
                );
            }
        }
    }
}

#[test]
fn sensitive_never_prints() {
    let secret = Sensitive::new("hunter2");
    assert_eq!(format!("{secret:?} {secret}"), "[REDACTED] [REDACTED]");
    assert_eq!(*secret.expose(), "hunter2");
}

// ---- the property test ----

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DIGITS: &[u8] = b"0123456789";

fn pick(seed: &[u8], charset: &[u8], n: usize) -> String {
    seed.iter()
        .cycle()
        .enumerate()
        .take(n)
        .map(|(k, &b)| charset[(usize::from(b) + k * 7) % charset.len()] as char)
        .collect()
}

fn luhn_check_digit(partial: &str) -> char {
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
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn iban_check(country: &str, account: &str) -> String {
    let mut remainder = 0u32;
    for c in account.bytes().chain(country.bytes()).chain(*b"00") {
        remainder = if c.is_ascii_digit() {
            (remainder * 10 + u32::from(c - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(c - b'A' + 10)) % 97
        };
    }
    format!("{:02}", 98 - remainder)
}

/// Containers for a secret named by its key: `{}` is the secret.
const KEYED: &[&str] = &[
    r#"Login { user: "ann", password: "{}" }"#,
    r#"{"password":"{}","n":1}"#,
    r#"Req { body: "{\"apiKey\":\"{}\"}" }"#,
    "{'password': '{}'}",
    r#"[("password", "{}")]"#,
    r#"password => "{}""#,
    "<password>{}</password>",
    "/login?user=ann&password={}&x=1",
    "q=a%26password%3D{}%26x%3D1",
    "Authorization: Bearer {}",
    "authorization: Basic {}",
    "Cookie: theme=dark; sessionid={}",
    "postgres://app:{}@db/prod",
    "X-Amz-Signature={}&X-Amz-Date=20261201",
    "Bearer {}",
    "cardNumber: {}",
    r#"Pay { card_cvc: Some("{}") }"#,
    "worker --db-password={} --verbose",
    r#"{"_token": "{}"}"#,
    r#"{"db.password": "{}"}"#,
    "[\n    (\n        \"password\",\n        \"{}\",\n    ),\n]",
    "password := {}",
    r#"Creds(ApiToken("{}"))"#,
    "postgres://app:p/{}#x!@db/prod",
];

/// A random secret of kind `kind` as printed, and its random part.
fn secret(kind: usize, seed: &[u8]) -> (String, String) {
    match kind {
        0 => {
            let body = pick(seed, DIGITS, 14);
            let digits = format!("4{body}{}", luhn_check_digit(&format!("4{body}")));
            let sep = ["", " ", "-", ".", "  "][usize::from(seed[0]) % 5];
            let printed = digits
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(sep);
            (printed.clone(), printed[1..].to_string())
        }
        1 => {
            let body = pick(seed, UPPER_DIGITS, 16);
            (format!("AKIA{body}"), body)
        }
        2 => {
            let body = pick(seed, ALNUM, 36);
            (format!("ghp_{body}"), body)
        }
        3 => {
            let body = pick(seed, ALNUM, 24);
            (format!("xoxb-123456789012-{body}"), body)
        }
        4 => {
            let body = pick(seed, ALNUM, 24);
            (format!("sk_live_{body}"), body)
        }
        5 => {
            let body = pick(seed, BASE64URL, 35);
            (format!("AIza{body}"), body)
        }
        6 => {
            let body = pick(seed, BASE64URL, 40);
            (format!("sk-proj-{body}"), body)
        }
        7 => {
            let claims = pick(seed, BASE64URL, 24);
            let signature = pick(&seed[3..], BASE64URL, 32);
            (
                format!("eyJhbGciOiJIUzI1NiJ9.eyJ{claims}.{signature}"),
                format!("{claims}.{signature}"),
            )
        }
        8 => {
            let body = pick(seed, ALNUM, 64);
            (
                format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----"),
                body,
            )
        }
        9 => {
            let account = pick(seed, DIGITS, 18);
            let iban = format!("DE{}{account}", iban_check("DE", &account));
            (iban, account)
        }
        10 => {
            // A valid area (not 000, 666 or 9xx), group and serial.
            let digits = pick(seed, b"12345678", 9);
            let area = format!("{}{}", pick(seed, b"12345", 1), &digits[1..3]);
            let ssn = format!("{area}-{}-{}", &digits[3..5], &digits[5..]);
            (ssn.clone(), ssn)
        }
        _ => {
            let value = pick(seed, ALNUM, 20);
            let container = KEYED[usize::from(seed[1]) % KEYED.len()];
            (container.replace("{}", &value), value)
        }
    }
}

/// Text around a secret: words, digits and punctuation.
fn filler() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9 ,.:;=()\\[\\]{}\"]{0,120}").unwrap()
}

fn pieces(random: &str) -> impl Iterator<Item = &str> {
    (0..=random.len().saturating_sub(8)).map(move |k| &random[k..k + 8])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_piece_of_a_secret_survives_any_cut(
        kind in 0usize..12,
        seed in proptest::collection::vec(any::<u8>(), 8..16),
        before in filler(),
        after in filler(),
        cap_at in 0.0f64..1.2,
        max_at in 0.0f64..1.0,
    ) {
        let (secret, random) = secret(kind, &seed);
        let text = format!("{before} {secret} {after}");
        let whole = scrub(&text);
        for piece in pieces(&random) {
            prop_assert!(!whole.contains(piece), "{piece} survived in {whole:?}");
        }
        prop_assert!(matches!(scrub(&whole), Cow::Borrowed(_)), "not idempotent: {whole:?} -> {:?}", scrub(&whole));
        // The formatting cap and the final cut at random points.
        let mut cap = ((text.len() as f64) * cap_at) as usize;
        let was_cut = cap < text.len();
        cap = cap.min(text.len());
        let max = ((cap as f64) * max_at) as usize;
        let out = finish(text[..cap].to_string(), was_cut, max);
        for piece in pieces(&random) {
            prop_assert!(!out.contains(piece), "{piece} survived in {out:?} (cap {cap}, max {max}, text {text:?})");
        }
    }
}
