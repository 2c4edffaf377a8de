//! Name rules shared by the macro, the runtime scrubber and the linter:
//! which names are secrets, which label keys are high-cardinality, which
//! keys are reserved.

/// Stems that make a name secret wherever they appear, even inside one
/// word (`newpassword`, `myApiKey`), compared case-insensitively. Each is
/// long and distinctive enough not to occur in ordinary names.
pub const SECRET_SUBSTRINGS: &[&str] = &[
    "password",
    "passwd",
    "passwort",
    "passphrase",
    "passkey",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "authorization",
    "cookie",
    "credential",
    "privatekey",
    "sessionid",
    "sessid",
    // Other languages' words for password.
    "kennwort",
    "contrasena",
    "contraseña",
    "senha",
    "motdepasse",
    "wachtwoord",
    "hasło",
    "пароль",
    "Пароль",
];

/// Words that make a name secret when they are one of its words (see
/// [`name_words`]), so `card_number` and `cardNumber` are secret and
/// `discard`, `spin` and `passenger` are not.
pub const SECRET_WORDS: &[&str] = &[
    "auth",
    "card",
    "pan",
    "cvv",
    "cvv2",
    "cvc",
    "ssn",
    "pin",
    "pincode",
    "pwd",
    "pw",
    "pass",
    "passcode",
    "bearer",
    "jwt",
    "session",
    "sessionid",
    "sid",
    "csrf",
    "xsrf",
    "signature",
    "sig",
    "salt",
    "otp",
    "totp",
    "mfa",
    "iban",
    "mnemonic",
    "dsn",
];

/// Two consecutive words that together make a name secret (`access_key`,
/// `accountNumber`, `X-Api-Key`), while each alone does not.
pub const SECRET_WORD_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("access", "key"),
    ("account", "key"),
    ("client", "key"),
    ("hmac", "key"),
    ("signing", "key"),
    ("private", "key"),
    ("session", "key"),
    ("secret", "key"),
    ("encryption", "key"),
    ("master", "key"),
    ("account", "number"),
    ("routing", "number"),
    ("security", "code"),
    ("connection", "string"),
    ("seed", "phrase"),
];

/// Last words that make a name describe a secret rather than hold one:
/// `token_count`, `session_timeout`, `password_length`, `auth_method`.
pub const DESCRIBING_WORDS: &[&str] = &[
    "count", "counts", "limit", "limits", "timeout", "ttl", "len", "length", "size", "expiry",
    "expires", "lifetime", "duration", "type", "kind", "method", "policy", "enabled", "required",
    "strength", "attempts",
];

/// First words that, before `tokens`, make a name a count of a language
/// model's tokens (`max_tokens`, `prompt_tokens`), not a credential.
const TOKEN_COUNT_WORDS: &[&str] = &[
    "max",
    "min",
    "total",
    "prompt",
    "completion",
    "input",
    "output",
    "cached",
    "reasoning",
];

/// Whether `name` describes a secret (its size, lifetime, kind...) rather
/// than holding one: its last word is one of [`DESCRIBING_WORDS`], or it
/// counts a language model's tokens.
fn describes_a_secret(name: &str) -> bool {
    let mut words = name_words(name);
    let Some(first) = words.next() else {
        return false;
    };
    let Some(last) = words.last() else {
        return false;
    };
    DESCRIBING_WORDS
        .iter()
        .any(|w| last.eq_ignore_ascii_case(w))
        || (last.eq_ignore_ascii_case("tokens")
            && TOKEN_COUNT_WORDS
                .iter()
                .any(|w| first.eq_ignore_ascii_case(w)))
}

/// Whether an argument, field or key named `name` holds a secret: it
/// contains one of [`SECRET_SUBSTRINGS`], one of its words is in
/// [`SECRET_WORDS`], or two consecutive words form a [`SECRET_WORD_PAIRS`]
/// entry, unless it only describes one (`token_count`, `max_tokens`, see
/// [`DESCRIBING_WORDS`]). Case-insensitive; allocation-free.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.strip_prefix("r#").unwrap_or(name);
    if describes_a_secret(name) {
        return false;
    }
    if SECRET_SUBSTRINGS
        .iter()
        .any(|stem| contains_ignore_case(name, stem))
    {
        return true;
    }
    let mut previous: Option<&str> = None;
    for word in name_words(name) {
        if SECRET_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w)) {
            return true;
        }
        if let Some(previous) = previous
            && SECRET_WORD_PAIRS.iter().any(|(first, second)| {
                previous.eq_ignore_ascii_case(first) && word.eq_ignore_ascii_case(second)
            })
        {
            return true;
        }
        previous = Some(word);
    }
    false
}

/// The words of a name: split on `_`, `-`, `.`, spaces and other
/// punctuation, and at camelCase boundaries (`userPin` → `user`, `Pin`;
/// `APIKey` → `API`, `Key`). Digits stay with the word before them
/// (`cvv2`).
pub fn name_words(name: &str) -> impl Iterator<Item = &str> {
    let bytes = name.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < bytes.len() && !is_name_byte(bytes[pos]) {
            pos += 1;
        }
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        pos += 1;
        while pos < bytes.len() && is_name_byte(bytes[pos]) {
            let (prev, here) = (bytes[pos - 1], bytes[pos]);
            let lower_to_upper =
                (prev.is_ascii_lowercase() || prev.is_ascii_digit()) && here.is_ascii_uppercase();
            // The last capital of an acronym starts the next word: `APIKey`.
            let acronym_end = prev.is_ascii_uppercase()
                && here.is_ascii_uppercase()
                && bytes.get(pos + 1).is_some_and(u8::is_ascii_lowercase);
            if lower_to_upper || acronym_end {
                break;
            }
            pos += 1;
        }
        Some(&name[start..pos])
    })
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || !b.is_ascii()
}

/// `haystack` contains `needle` (lowercase ASCII), ignoring ASCII case and
/// the separators `_`, `-`, `.` inside the haystack, so `api_key`,
/// `private-key` and `PrivateKey` all contain `apikey`/`privatekey`.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let hay = haystack.as_bytes();
    let needle = needle.as_bytes();
    let first = needle[0];
    // Separators only lengthen a match: a shorter name cannot contain it.
    if hay.len() < needle.len() {
        return false;
    }
    (0..=hay.len() - needle.len()).any(|start| {
        // Most positions fail on the first byte: test it before looping.
        if hay[start].to_ascii_lowercase() != first {
            return false;
        }
        let mut pos = start + 1;
        for &want in &needle[1..] {
            // A separator may sit inside the stem, never at its start.
            while pos < hay.len() && matches!(hay[pos], b'_' | b'-' | b'.') {
                pos += 1;
            }
            if pos >= hay.len() || hay[pos].to_ascii_lowercase() != want {
                return false;
            }
            pos += 1;
        }
        true
    })
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

/// Whether `key` is one of [`RESERVED_LABEL_KEYS`].
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

/// The longest flow name.
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
            "newpassword",
            "Passwd",
            "client_secret",
            "access_token",
            "apiKey",
            "api_key",
            "authorization",
            "cookie",
            "credentials",
            "private_key",
            "privateKey",
            "auth",
            "card",
            "card_number",
            "pan",
            "cvv",
            "cvc",
            "ssn",
            "pin",
            "user_pin",
            "r#pin",
            // The names the issue found recorded raw.
            "pwd",
            "pass",
            "user_pass",
            "passphrase",
            "bearer",
            "jwt",
            "session_key",
            "sessionid",
            "otp",
            "iban",
            "account_number",
            "cvv2",
            "pincode",
            "security_code",
            "signing_key",
            "access_key",
            "mnemonic",
            // camelCase, kebab-case and header forms.
            "cardNumber",
            "cardCvc",
            "userPin",
            "authToken",
            "pinCode",
            "x-api-key",
            "X-Api-Key",
            "XApiKey",
            "APIKey",
            "accountNumber",
            "Proxy-Authorization",
            "Set-Cookie",
            // What a reviewer adds.
            "session",
            "sid",
            "csrf",
            "xsrf_token",
            "signature",
            "salt",
            "totp",
            "mfa_code",
            "routing_number",
            "passcode",
            "secret_key",
            "dsn",
            "database.dsn",
            "connection_string",
            "connectionString",
        ] {
            assert!(is_secret_name(secret), "{secret} should be secret");
        }
        for plain in [
            "company",
            "author",
            "discard",
            "pane",
            "spin",
            "pinned",
            "username",
            "amount",
            "order_id",
            "passenger",
            "compass",
            "bypass",
            "inside",
            "footprint",
            "considered",
            "key",
            "cache_key",
            "api_version",
            "account",
            "number",
            "salty",
            "visit_count",
            "",
        ] {
            assert!(!is_secret_name(plain), "{plain} should not be secret");
        }
    }

    #[test]
    fn names_split_into_words() {
        let words = |name| name_words(name).collect::<Vec<_>>();
        assert_eq!(words("cardNumber"), ["card", "Number"]);
        assert_eq!(words("X-Api-Key"), ["X", "Api", "Key"]);
        assert_eq!(words("APIKey"), ["API", "Key"]);
        assert_eq!(words("user_pass.v2"), ["user", "pass", "v2"]);
        assert_eq!(words("cvv2"), ["cvv2"]);
        assert_eq!(words("  a  b "), ["a", "b"]);
        assert!(words("__").is_empty());
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
