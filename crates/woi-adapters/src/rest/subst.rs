//! Variable substitution in connection info and bodies (spec 03 §3.3).
//!
//! Three stages, each scanning the output of the previous one; text inserted
//! by a stage is never rescanned by the same or an earlier stage:
//!
//! 1. auth keys `@k@` (arbitrary keys of the auth entry),
//! 2. job-definition variables `@v@`,
//! 3. takeover variables `<t>` (only names declared in `takeoverKeys`).
//!
//! `@name@`: `name` is a non-empty run without `@` or whitespace; when it is
//! not defined at this stage the first `@` is kept and scanning resumes at the
//! second `@`. Undefined tokens stay as literal text. Values are inserted raw.

/// Replace `@name@` tokens whose name `lookup` knows.
pub fn at_tokens<'a>(text: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('@') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('@') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        let valid = !name.is_empty() && !name.chars().any(char::is_whitespace);
        match valid.then(|| lookup(name)).flatten() {
            Some(value) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('@');
                out.push_str(name);
                rest = &after[close..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replace `<name>` tokens for the declared takeover variables.
pub fn takeover(text: &str, vars: &[(String, String)]) -> String {
    if vars.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let len = after.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let name = &after[..len];
        let value = (after[len..].starts_with('>')).then(|| vars.iter().find(|(k, _)| k == name)).flatten();
        match value {
            Some((_, v)) if len > 0 => {
                out.push_str(v);
                rest = &after[len + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The substitution context of one run: auth keys and job-definition variables.
#[derive(Clone, Debug, Default)]
pub struct Vars<'a> {
    /// Arbitrary keys of the auth entry (stage 1).
    pub auth_keys: &'a [(String, String)],
    /// Job-definition variables (stage 2).
    pub job_vars: Option<&'a std::collections::BTreeMap<String, String>>,
}

impl Vars<'_> {
    /// Stage 1 then stage 2 (query and header values, bodies).
    pub fn values(&self, text: &str) -> String {
        let stage1 = at_tokens(text, |n| self.auth_keys.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()));
        self.job(&stage1)
    }

    /// Stage 2 only.
    pub fn job(&self, text: &str) -> String {
        match self.job_vars {
            Some(vars) => at_tokens(text, |n| vars.get(n).map(String::as_str)),
            None => text.to_owned(),
        }
    }

    /// A URL: stage 2 on everything after the leading `https://` / `http://`.
    pub fn url(&self, url: &str) -> String {
        for scheme in ["https://", "http://"] {
            if let Some(rest) = url.strip_prefix(scheme) {
                return format!("{scheme}{}", self.job(rest));
            }
        }
        self.job(url)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn keys(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    // SUB-001
    #[test]
    fn sub_001_job_variable_in_url_but_not_scheme() {
        let jv = vars(&[("HOST", "api7.example.test"), ("https:", "X")]);
        let v = Vars { auth_keys: &[], job_vars: Some(&jv) };
        assert_eq!(v.url("https://@HOST@/v1/run"), "https://api7.example.test/v1/run");
    }

    // SUB-002
    #[test]
    fn sub_002_auth_key_wins() {
        let jv = vars(&[("tenant", "JD")]);
        let ak = keys(&[("tenant", "T-9")]);
        assert_eq!(Vars { auth_keys: &ak, job_vars: Some(&jv) }.values("@tenant@"), "T-9");
    }

    // SUB-003
    #[test]
    fn sub_003_stage_two_scans_stage_one_output() {
        let jv = vars(&[("ENV", "prod")]);
        let ak = keys(&[("path", "@ENV@-x")]);
        assert_eq!(Vars { auth_keys: &ak, job_vars: Some(&jv) }.values("@path@"), "prod-x");
    }

    // SUB-004
    #[test]
    fn sub_004_auth_key_inside_job_variable_not_replaced() {
        let jv = vars(&[("V", "@secret@")]);
        let ak = keys(&[("secret", "S")]);
        assert_eq!(Vars { auth_keys: &ak, job_vars: Some(&jv) }.values("@V@"), "@secret@");
    }

    // SUB-005
    #[test]
    fn sub_005_undefined_tokens_are_literal() {
        let jv = vars(&[("B", "b")]);
        let v = Vars { auth_keys: &[], job_vars: Some(&jv) };
        assert_eq!(v.values("@NOPE@"), "@NOPE@");
        assert_eq!(v.values("a@NOPE@B@"), "a@NOPEb");
        assert_eq!(v.values("mail@x y@B@"), "mail@x yb");
        assert_eq!(v.values("@@B@"), "@b");
        assert_eq!(v.values("tail@"), "tail@");
    }

    // SUB-007
    #[test]
    fn sub_007_only_declared_takeover_names() {
        let t = keys(&[("RID", "r-42")]);
        assert_eq!(takeover(r#"{"id":"<RID>","x":"<OTHER>"}"#, &t), r#"{"id":"r-42","x":"<OTHER>"}"#);
        assert_eq!(takeover("<a><RID></a> <RID <RID>>", &t), "<a>r-42</a> <RID r-42>");
    }

    // SUB-008
    #[test]
    fn sub_008_takeover_applies_to_stage_two_output() {
        let jv = vars(&[("Q", "<RID>")]);
        let stage2 = Vars { auth_keys: &[], job_vars: Some(&jv) }.values(r#"{"id":"@Q@"}"#);
        assert_eq!(takeover(&stage2, &keys(&[("RID", "r-42")])), r#"{"id":"r-42"}"#);
    }
}
