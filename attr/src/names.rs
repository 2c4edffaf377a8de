//! Name rules shared by the macro, the runtime scrubber and the linter:
//! which names are secrets, which label keys are high-cardinality, which
//! keys are reserved.

/// Substrings that make a name secret wherever they appear (case-insensitive).
pub const SECRET_SUBSTRINGS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "authorization",
    "cookie",
    "credential",
    "private_key",
];

/// Words that make a name secret when they are one of its `_`-separated
/// words (so `card_number` is secret and `discard` is not).
pub const SECRET_WORDS: &[&str] = &["auth", "card", "pan", "cvv", "cvc", "ssn", "pin"];

/// Whether an argument, field or key named `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let lower = lower.trim_start_matches("r#");
    SECRET_SUBSTRINGS.iter().any(|s| lower.contains(s))
        || lower
            .split(['_', '.', '-'])
            .any(|word| SECRET_WORDS.contains(&word))
}

/// Label keys that name a high-cardinality concept, refused whatever the type.
pub const HIGH_CARDINALITY_KEYS: &[&str] = &[
    "id",
    "ids",
    "uuid",
    "guid",
    "email",
    "user",
    "username",
    "ip",
    "ip_address",
    "url",
    "uri",
    "path",
    "query",
    "session",
    "token",
    "trace_id",
    "span_id",
    "request_id",
    "timestamp",
];

/// Whether a metric label key names an unbounded concept (ids, users,
/// addresses, paths, timestamps).
pub fn is_high_cardinality_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    HIGH_CARDINALITY_KEYS.contains(&lower.as_str())
        || lower.ends_with("_id")
        || lower.ends_with("_ids")
}

/// Label keys the macro itself sets, or that Prometheus gives a meaning.
pub const RESERVED_LABEL_KEYS: &[&str] = &crate::schema::RESERVED_LABEL_KEYS;

pub fn is_reserved_label_key(key: &str) -> bool {
    RESERVED_LABEL_KEYS.contains(&key)
}

/// Whether `key` is a valid Prometheus label name that is not reserved for
/// internal use: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`.
pub fn is_valid_label_key(key: &str) -> bool {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !key.starts_with("__")
}

pub const MAX_FLOW_LEN: usize = 64;

/// Why `flow` is not a valid flow name, if it is not.
pub fn flow_problem(flow: &str) -> Option<String> {
    if flow.is_empty() {
        return Some("the flow name is empty".into());
    }
    if flow.len() > MAX_FLOW_LEN {
        return Some(format!(
            "the flow name is {} characters long; the limit is {MAX_FLOW_LEN}",
            flow.len()
        ));
    }
    let bad: Vec<char> = flow
        .chars()
        .filter(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')))
        .collect();
    if !bad.is_empty() {
        let shown: String = bad
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        return Some(format!(
            "the flow name contains {shown}; use lowercase ASCII letters, digits, `_`, `.` and `-`"
        ));
    }
    None
}

/// The closest valid flow name to `text`: lowercased, other characters as
/// `_`, cut to the limit, without leading or trailing `_`. Empty when
/// nothing usable is left.
pub fn sanitize_flow(text: &str) -> String {
    let flow: String = text
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_FLOW_LEN)
        .collect();
    flow.trim_matches('_').to_string()
}

/// The flow name a function gets by default: its own name, lowercased.
pub fn default_flow(fn_name: &str) -> String {
    let name = fn_name.trim_start_matches("r#").to_ascii_lowercase();
    name.chars().take(MAX_FLOW_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_follow_the_documented_rules() {
        for secret in [
            "password",
            "db_password",
            "Passwd",
            "client_secret",
            "access_token",
            "apiKey",
            "api_key",
            "authorization",
            "cookie",
            "credentials",
            "private_key",
            "auth",
            "card",
            "card_number",
            "pan",
            "cvv",
            "cvc",
            "ssn",
            "pin",
            "user_pin",
        ] {
            assert!(is_secret_name(secret), "{secret} should be secret");
        }
        for plain in [
            "company", "author", "discard", "pane", "spin", "pinned", "username", "amount",
            "order_id",
        ] {
            assert!(!is_secret_name(plain), "{plain} should not be secret");
        }
    }

    #[test]
    fn high_cardinality_keys() {
        for key in [
            "id",
            "user_id",
            "order_ids",
            "email",
            "path",
            "request_id",
            "Timestamp",
        ] {
            assert!(is_high_cardinality_key(key), "{key}");
        }
        for key in ["region", "tier", "method", "kind", "idle"] {
            assert!(!is_high_cardinality_key(key), "{key}");
        }
    }

    #[test]
    fn label_key_syntax() {
        assert!(is_valid_label_key("region"));
        assert!(is_valid_label_key("_x1"));
        assert!(!is_valid_label_key("__meta"));
        assert!(!is_valid_label_key("1abc"));
        assert!(!is_valid_label_key("my-key"));
        assert!(!is_valid_label_key(""));
    }

    #[test]
    fn flow_names() {
        assert_eq!(flow_problem("checkout.v2-eu_1"), None);
        assert!(flow_problem("Checkout").is_some());
        assert!(flow_problem("").is_some());
        assert!(flow_problem(&"a".repeat(65)).is_some());
    }
}
