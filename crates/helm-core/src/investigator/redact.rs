//! Secrets never leave the tool: AWS access key ids, secret-looking keys, bearer tokens,
//! passwords in URLs and `password=`-style values are masked in every line helm-cloud
//! prints or saves.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // AWS access key ids (long-term AKIA, temporary ASIA, and the other documented prefixes).
        (r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b", "${1}****************"),
        // user:password@ in URLs.
        (r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@", "${1}:****@"),
        // Authorization headers and bearer tokens.
        (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}", "${1} ****"),
        // AWS error messages that quote a function's environment ("String measured: {…}"):
        // any variable may hold a secret, so none of it is kept.
        (r"(?i)(String measured:\s*)\S.*", "${1}<environment variables withheld>"),
        // key=value and "key": "value" for secret-looking keys, with any prefix (DB_PASSWORD).
        (
            r#"(?i)\b([A-Za-z0-9_]*?(?:aws_)?(?:secret(?:_access)?_key|secret|password|passwd|pwd|token|api[_-]?key|access[_-]?token|client[_-]?secret|session[_-]?token)"?\s*[:=]\s*"?)([^"\s,;&}]+)"#,
            "${1}****",
        ),
        // A 40-character AWS-secret-shaped string anywhere (mixed case and digits; a hex
        // digest has no capitals, so it is left alone).
        (r"\b(?:[A-Za-z0-9/+]{40})\b", "<secret>"),
    ]
    .into_iter()
    .map(|(p, r)| (Regex::new(p).expect("redaction patterns compile"), r))
    .collect()
});

fn secret_shaped(s: &str) -> bool {
    s.len() == 40
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_digit())
}

/// `text` with every secret masked (borrowed when there was none).
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    for (i, (re, with)) in RULES.iter().enumerate() {
        if !re.is_match(&out) {
            continue;
        }
        let replaced = if i == RULES.len() - 1 {
            re.replace_all(&out, |c: &regex::Captures| {
                if secret_shaped(&c[0]) {
                    "<secret>".to_string()
                } else {
                    c[0].to_string()
                }
            })
            .into_owned()
        } else {
            re.replace_all(&out, *with).into_owned()
        };
        out = Cow::Owned(replaced);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_keys_are_masked() {
        assert_eq!(
            redact("key AKIAIOSFODNN7EXAMPLE used"),
            "key AKIA**************** used"
        );
        assert_eq!(redact("ASIAXXXXXXXXXXXXXXXX"), "ASIA****************");
    }

    #[test]
    fn secret_keys_tokens_and_passwords_are_masked() {
        let r = redact("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert!(!r.contains("wJalr"), "{r}");
        assert!(!redact("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end").contains("wJalr"));
        assert_eq!(
            redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def"),
            "Authorization: Bearer ****"
        );
        assert_eq!(
            redact("connecting to postgres://app:hunter2@db:5432/x"),
            "connecting to postgres://app:****@db:5432/x"
        );
        assert_eq!(
            redact("login password=hunter2 ok"),
            "login password=**** ok"
        );
        assert_eq!(redact(r#"{"token": "abc123def"}"#), r#"{"token": "****"}"#);
    }

    #[test]
    fn prefixed_secret_names_and_quoted_environments_are_masked() {
        assert_eq!(
            redact(r#"{"DB_PASSWORD":"hunter2-secret"}"#),
            r#"{"DB_PASSWORD":"****"}"#
        );
        let aws = r#"Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {"STAGE":"test","STRIPE":"sk_live_abc"}"#;
        let r = redact(aws);
        assert!(!r.contains("sk_live_abc") && !r.contains("STAGE"), "{r}");
        assert!(r.contains("exceeded the 4KB limit"), "{r}");
    }

    #[test]
    fn ordinary_text_and_hex_digests_are_left_alone() {
        let line = "commit 3f786850e387550fdab836ed7e6dc881de23001b deployed in 250 ms";
        assert_eq!(redact(line), line);
        assert!(matches!(redact("nothing to see"), Cow::Borrowed(_)));
    }
}
