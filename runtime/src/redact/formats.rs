//! Secrets that announce themselves by their shape, wherever they appear:
//! vendor tokens with a published prefix, JSON Web Tokens, PEM private
//! key blocks. Each detector returns the end of the secret starting at `i`.

use super::scrub::run_len;

/// A vendor token: its prefix, which bytes its body is made of, and the
/// shortest body accepted (at or below the published length, so a token
/// is masked even if the format grows).
struct Vendor {
    prefix: &'static [u8],
    body: fn(u8) -> bool,
    min_body: usize,
}

fn upper_or_digit(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn alnum_underscore(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn alnum_dash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

fn base64url_dot(b: u8) -> bool {
    base64url(b) || b == b'.'
}

fn alnum_slash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'/'
}

/// After gitleaks' rules (`aws-access-token`, `github-*`, `gitlab-pat`,
/// `slack-*-token`, `stripe-access-token`, `gcp-api-key`, `openai-api-key`,
/// `npm-access-token`, `huggingface-access-token`, `sendgrid-api-token`,
/// `shopify-*`, `gcp-oauth` access tokens, `digitalocean-*`, `pypi-upload-token`,
/// `slack-webhook-url`).
/// (`token_at` filters on the first letters of these prefixes: keep it in
/// step.)
const VENDORS: &[Vendor] = &[
    // AWS access key ids: AKIA (long-term), ASIA (temporary), ABIA, ACCA.
    Vendor {
        prefix: b"AKIA",
        body: upper_or_digit,
        min_body: 16,
    },
    Vendor {
        prefix: b"ASIA",
        body: upper_or_digit,
        min_body: 16,
    },
    Vendor {
        prefix: b"ABIA",
        body: upper_or_digit,
        min_body: 16,
    },
    Vendor {
        prefix: b"ACCA",
        body: upper_or_digit,
        min_body: 16,
    },
    // GitHub: personal, OAuth, user-to-server, server-to-server, refresh;
    // fine-grained personal tokens.
    Vendor {
        prefix: b"ghp_",
        body: alnum,
        min_body: 30,
    },
    Vendor {
        prefix: b"gho_",
        body: alnum,
        min_body: 30,
    },
    Vendor {
        prefix: b"ghu_",
        body: alnum,
        min_body: 30,
    },
    Vendor {
        prefix: b"ghs_",
        body: alnum,
        min_body: 30,
    },
    Vendor {
        prefix: b"ghr_",
        body: alnum,
        min_body: 30,
    },
    Vendor {
        prefix: b"github_pat_",
        body: alnum_underscore,
        min_body: 22,
    },
    Vendor {
        prefix: b"glpat-",
        body: base64url,
        min_body: 20,
    },
    // Slack bot, user, app-level, refresh, legacy and configuration tokens.
    Vendor {
        prefix: b"xoxb-",
        body: alnum_dash,
        min_body: 10,
    },
    Vendor {
        prefix: b"xoxp-",
        body: alnum_dash,
        min_body: 10,
    },
    Vendor {
        prefix: b"xoxa-",
        body: alnum_dash,
        min_body: 10,
    },
    Vendor {
        prefix: b"xoxr-",
        body: alnum_dash,
        min_body: 10,
    },
    Vendor {
        prefix: b"xoxs-",
        body: alnum_dash,
        min_body: 10,
    },
    Vendor {
        prefix: b"xoxe-",
        body: alnum_dash,
        min_body: 10,
    },
    Vendor {
        prefix: b"xapp-",
        body: alnum_dash,
        min_body: 10,
    },
    // Stripe secret and restricted keys, live and test; webhook secrets.
    Vendor {
        prefix: b"sk_live_",
        body: alnum,
        min_body: 16,
    },
    Vendor {
        prefix: b"rk_live_",
        body: alnum,
        min_body: 16,
    },
    Vendor {
        prefix: b"sk_test_",
        body: alnum,
        min_body: 16,
    },
    Vendor {
        prefix: b"rk_test_",
        body: alnum,
        min_body: 16,
    },
    Vendor {
        prefix: b"whsec_",
        body: alnum,
        min_body: 24,
    },
    // Google API keys.
    Vendor {
        prefix: b"AIza",
        body: base64url,
        min_body: 30,
    },
    // OpenAI (`sk-`, `sk-proj-`, `sk-svcacct-`) and Anthropic (`sk-ant-`).
    Vendor {
        prefix: b"sk-",
        body: base64url,
        min_body: 20,
    },
    Vendor {
        prefix: b"npm_",
        body: alnum,
        min_body: 36,
    },
    Vendor {
        prefix: b"hf_",
        body: alnum,
        min_body: 30,
    },
    Vendor {
        prefix: b"SG.",
        body: base64url_dot,
        min_body: 60,
    },
    // Shopify access, custom-app, private-app tokens and shared secrets.
    Vendor {
        prefix: b"shpat_",
        body: alnum,
        min_body: 32,
    },
    Vendor {
        prefix: b"shpca_",
        body: alnum,
        min_body: 32,
    },
    Vendor {
        prefix: b"shppa_",
        body: alnum,
        min_body: 32,
    },
    Vendor {
        prefix: b"shpss_",
        body: alnum,
        min_body: 32,
    },
    // Google OAuth access tokens.
    Vendor {
        prefix: b"ya29.",
        body: base64url,
        min_body: 20,
    },
    // DigitalOcean personal, OAuth and refresh tokens.
    Vendor {
        prefix: b"dop_v1_",
        body: alnum,
        min_body: 64,
    },
    Vendor {
        prefix: b"doo_v1_",
        body: alnum,
        min_body: 64,
    },
    Vendor {
        prefix: b"dor_v1_",
        body: alnum,
        min_body: 64,
    },
    Vendor {
        prefix: b"pypi-",
        body: base64url,
        min_body: 50,
    },
    // A Slack incoming webhook: its path is the credential.
    Vendor {
        prefix: b"hooks.slack.com/services/",
        body: alnum_slash,
        min_body: 20,
    },
];

/// A vendor token or a JSON Web Token starting at `i`: its end.
pub(super) fn token_at(bytes: &[u8], i: usize) -> Option<usize> {
    let rest = &bytes[i..];
    // Most words start with a letter no prefix starts with.
    if !matches!(
        rest[0],
        b'A' | b'S' | b'd' | b'e' | b'g' | b'h' | b'n' | b'p' | b'r' | b's' | b'w' | b'x' | b'y'
    ) {
        return None;
    }
    if rest.starts_with(b"eyJ") {
        return jwt_end(bytes, i);
    }
    VENDORS.iter().find_map(|vendor| {
        if vendor.prefix[0] != rest[0] || !rest.starts_with(vendor.prefix) {
            return None;
        }
        let body = run_len(bytes, i + vendor.prefix.len(), vendor.body);
        (body >= vendor.min_body).then_some(i + vendor.prefix.len() + body)
    })
}

/// `eyJ…` base64url, `.`, base64url, `.`, base64url (possibly empty, for
/// an unsigned token), and any further parts (a JWE has five).
fn jwt_end(bytes: &[u8], i: usize) -> Option<usize> {
    let header = run_len(bytes, i, base64url);
    let mut pos = i + header;
    if header < 10 || bytes.get(pos) != Some(&b'.') {
        return None;
    }
    let payload = run_len(bytes, pos + 1, base64url);
    if payload < 2 || bytes.get(pos + 1 + payload) != Some(&b'.') {
        return None;
    }
    pos += 1 + payload;
    while bytes.get(pos) == Some(&b'.') {
        pos += 1 + run_len(bytes, pos + 1, base64url);
    }
    Some(pos)
}

/// How a PEM block starts.
pub(super) const PEM_BEGIN: &[u8] = b"-----BEGIN ";

/// `-----BEGIN … PRIVATE KEY-----` through the matching `-----END …-----`
/// (or the end of the text, when the block was cut).
pub(super) fn pem_block_at(bytes: &[u8], i: usize) -> Option<usize> {
    const BEGIN: &[u8] = PEM_BEGIN;
    const END: &[u8] = b"-----END ";
    if !bytes[i..].starts_with(BEGIN) {
        return None;
    }
    let label_start = i + BEGIN.len();
    let label = find(&bytes[label_start..], b"-----")?;
    // Only private keys: certificates and public keys are not secrets.
    find(&bytes[label_start..label_start + label], b"PRIVATE KEY")?;
    let body = label_start + label + 5;
    let Some(end) = find(&bytes[body..], END) else {
        return Some(bytes.len());
    };
    let end_label = body + end + END.len();
    Some(match find(&bytes[end_label..], b"-----") {
        Some(close) => end_label + close + 5,
        None => bytes.len(),
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
