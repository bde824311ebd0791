//! Byte counting and character rules shared by every entry point (decision D7).
//!
//! The original product counts "bytes" in a legacy Japanese encoding: one byte
//! per ASCII or half-width katakana character, two per any other character.
//! [`legacy_len`] implements that rule; every limit in [`limits`] is in those
//! units, so a name accepted in a definition file is accepted everywhere.

/// Length of `s` under the legacy rule: 1 per ASCII or half-width katakana
/// character, 2 per any other character.
pub fn legacy_len(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() || is_halfwidth_katakana(c) { 1 } else { 2 }).sum()
}

/// Half-width katakana block (U+FF61–U+FF9F).
pub fn is_halfwidth_katakana(c: char) -> bool {
    ('\u{FF61}'..='\u{FF9F}').contains(&c)
}

/// User-defined (private use) characters: U+E000–U+F8FF and planes 15/16.
pub fn is_user_defined(c: char) -> bool {
    ('\u{E000}'..='\u{F8FF}').contains(&c) || (c as u32) >= 0xF0000
}

/// Limits of spec 01 §2.2 and §2.11, in legacy bytes where they are lengths.
pub mod limits {
    /// Project name, in legacy bytes.
    pub const PROJECT_NAME: usize = 50;
    /// Jobnet name, in legacy bytes.
    pub const JOBNET_NAME: usize = 50;
    /// Jobnet comment (display name), in legacy bytes.
    pub const JOBNET_COMMENT: usize = 100;
    /// Message event name, in legacy bytes.
    pub const EVENT_NAME: usize = 12;
    /// Variable parameter, in legacy bytes.
    pub const VPARAM: usize = 200;
    /// Copy-start suffix, in legacy bytes.
    pub const COPY_SUFFIX: usize = 30;
    /// Full jobnet variable name `<prefix>.<NAME>`, in legacy bytes.
    pub const JOBNET_VARIABLE_NAME: usize = 64;
    /// Jobnet variables held by one jobnet.
    pub const JOBNET_VARIABLES: usize = 640;
    /// Hierarchy depth of jobnets (level 1 = top level).
    pub const HIERARCHY_DEPTH: usize = 5;
    /// Jobs in one jobnet, recovery jobs and jobnet icons included.
    pub const JOBS_PER_JOBNET: usize = 255;
    /// Message events awaited by one jobnet.
    pub const EVENTS_PER_JOBNET: usize = 70;
    /// Accumulated occurrence count of one event for one jobnet.
    pub const EVENT_COUNT: u16 = 255;
    /// Linked jobnets of one master-linked jobnet.
    pub const LINKS_PER_MASTER: usize = 100;
    /// Projects in one environment.
    pub const PROJECTS: usize = 1000;
    /// Start times of a multi-time jobnet.
    pub const MULTI_TIMES: usize = 6;
    /// Smallest interval of an interval start, minutes.
    pub const INTERVAL_MIN: u16 = 1;
    /// Largest interval of an interval start, minutes.
    pub const INTERVAL_MAX: u16 = 240;
    /// Default limit on simultaneously executing jobs (Enterprise edition, 4.6.4.3).
    pub const DEFAULT_MAX_CONCURRENT_JOBS: u32 = 300;
    /// Largest "upper limit of normal exit codes" (so that 201–256 stay abnormal).
    pub const NORMAL_LIMIT_MAX: u32 = 200;
    /// Highest execution priority.
    pub const PRIORITY_MAX: u8 = 39;
    /// Default execution priority.
    pub const PRIORITY_DEFAULT: u8 = 19;
    /// Job-definition variable name (`[variables]`), in characters (ASCII only).
    pub const VARIABLE_NAME: usize = 64;
    /// Request hosts of a network job: the first and the second candidate.
    pub const REQUEST_HOSTS: usize = 2;
}

/// Queues of network jobs (spec 01 §3.7, 4.6.4.2); the default is `queue1`.
pub const NETWORK_QUEUES: &[&str] = &["online1", "queue1", "queue2", "queue3", "queue4", "queue5"];

/// Characters forbidden in jobnet names (SWOM, spec 01 §2.2).
pub const JOBNET_NAME_FORBIDDEN: &[char] = &['/', '?', '*', ';', '\\', '"', '<', '>', '|', ':', ',', '\''];

/// Characters forbidden in project names (spec 01 §2.2, 9.1.5).
pub const PROJECT_NAME_FORBIDDEN: &[char] = &['/', '?', '*', ',', ':', ';', '\\', '¥', '\'', '"', '<', '>', '|', '.'];

/// Why a name was refused; the text says what is allowed.
pub fn check_project_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if legacy_len(name) > limits::PROJECT_NAME {
        return Err(format!("is {} bytes; at most {} allowed", legacy_len(name), limits::PROJECT_NAME));
    }
    if name.starts_with('#') {
        return Err("must not start with '#'".into());
    }
    for c in name.chars() {
        if PROJECT_NAME_FORBIDDEN.contains(&c) || c.is_whitespace() {
            return Err(format!("must not contain {c:?} (forbidden: / ? * , : ; \\ ¥ ' \" < > | . and spaces)"));
        }
        check_common_char(c)?;
    }
    Ok(())
}

/// Jobnet names: ≤ 50 bytes, no forbidden characters, no leading/trailing `.`.
pub fn check_jobnet_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if legacy_len(name) > limits::JOBNET_NAME {
        return Err(format!("is {} bytes; at most {} allowed", legacy_len(name), limits::JOBNET_NAME));
    }
    if name.starts_with('.') || name.ends_with('.') {
        return Err("must not start or end with '.'".into());
    }
    for c in name.chars() {
        if JOBNET_NAME_FORBIDDEN.contains(&c) || c.is_whitespace() || c == '\u{3000}' {
            return Err(format!("must not contain {c:?} (forbidden: / ? * ; \\ \" < > | : , ' and spaces)"));
        }
        check_common_char(c)?;
    }
    Ok(())
}

/// Jobnet comments: ≤ 100 bytes; `"`, spaces, half-width kana and user-defined characters are forbidden (SWOM).
pub fn check_jobnet_comment(comment: &str) -> Result<(), String> {
    if legacy_len(comment) > limits::JOBNET_COMMENT {
        return Err(format!("is {} bytes; at most {} allowed", legacy_len(comment), limits::JOBNET_COMMENT));
    }
    for c in comment.chars() {
        if c == '"' || c.is_whitespace() || c == '\u{3000}' {
            return Err(format!("must not contain {c:?} (forbidden: \" and spaces)"));
        }
        check_common_char(c)?;
    }
    Ok(())
}

/// Message event names: 1–12 bytes of half/full-width alphanumerics, kana, kanji and `@ + _ -`.
pub fn check_event_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if legacy_len(name) > limits::EVENT_NAME {
        return Err(format!("is {} bytes; at most {} allowed", legacy_len(name), limits::EVENT_NAME));
    }
    for c in name.chars() {
        if !is_woi_name_char(c) {
            return Err(format!("must not contain {c:?} (allowed: letters, digits, kana, kanji and @ + _ -)"));
        }
    }
    Ok(())
}

/// `WOI_NAME_CHARS` (spec 01 §2.2, spec 04 §2.3): the characters of message
/// event names, and of the names and variable parameters the Web API
/// accepts: half- and full-width letters and digits, hiragana, katakana,
/// kanji and `@ + _ -`, with the code-point sets fixed by spec 04 §2.3.
pub fn is_woi_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '@' | '+' | '_' | '-')
        || ('\u{FF10}'..='\u{FF19}').contains(&c) // full-width digits
        || ('\u{FF21}'..='\u{FF3A}').contains(&c) // full-width upper case
        || ('\u{FF41}'..='\u{FF5A}').contains(&c) // full-width lower case
        || ('\u{3041}'..='\u{3096}').contains(&c) // hiragana
        || ('\u{309D}'..='\u{309F}').contains(&c) // hiragana iteration marks, yori
        || ('\u{30A1}'..='\u{30FA}').contains(&c) // katakana
        || ('\u{30FC}'..='\u{30FF}').contains(&c) // prolonged sound mark, iteration marks, koto
        || ('\u{4E00}'..='\u{9FFF}').contains(&c) // CJK unified ideographs
        || ('\u{3400}'..='\u{4DBF}').contains(&c) // extension A
        || ('\u{F900}'..='\u{FAFF}').contains(&c) // compatibility ideographs
        || c == '\u{3005}' // 々
}

/// Copy-start suffixes: 1–30 bytes of `[A-Za-z0-9-]`, first character alphanumeric.
pub fn check_copy_suffix(suffix: &str) -> Result<(), String> {
    if suffix.is_empty() {
        return Err("must not be empty".into());
    }
    if suffix.len() > limits::COPY_SUFFIX {
        return Err(format!("is {} bytes; at most {} allowed", suffix.len(), limits::COPY_SUFFIX));
    }
    if !suffix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("may contain only A-Z a-z 0-9 and '-'".into());
    }
    if suffix.starts_with('-') {
        return Err("must start with a letter or digit".into());
    }
    Ok(())
}

/// Job-definition variable names (`@NAME@`): 1–64 ASCII letters, digits and `_`.
pub fn check_variable_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > limits::VARIABLE_NAME {
        return Err(format!("is {} characters; at most {} allowed", name.len(), limits::VARIABLE_NAME));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("may contain only ASCII letters, digits and '_'".into());
    }
    Ok(())
}

/// Jobnet-variable prefixes: ASCII letters, digits and `_`, short enough that
/// `<prefix>.` plus a one-character name fits the 64-byte jobnet-variable name.
pub fn check_netvar_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() {
        return Err("must not be empty".into());
    }
    if !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("may contain only ASCII letters, digits and '_'".into());
    }
    let max = limits::JOBNET_VARIABLE_NAME - 2;
    if prefix.len() > max {
        return Err(format!(
            "is {} bytes; at most {max} allowed (\"<prefix>.<NAME>\" must fit {} bytes)",
            prefix.len(),
            limits::JOBNET_VARIABLE_NAME
        ));
    }
    Ok(())
}

fn check_common_char(c: char) -> Result<(), String> {
    if is_halfwidth_katakana(c) {
        return Err(format!("must not contain half-width katakana ({c:?})"));
    }
    if is_user_defined(c) {
        return Err(format!("must not contain user-defined characters (U+{:04X})", c as u32));
    }
    if c.is_control() {
        return Err(format!("must not contain control characters (U+{:04X})", c as u32));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_len_counts_ascii_one_kanji_two_halfwidth_kana_one() {
        assert_eq!(legacy_len("abc"), 3);
        assert_eq!(legacy_len("日本"), 4);
        assert_eq!(legacy_len("ｱｲ"), 2);
        assert_eq!(legacy_len("aあ"), 3);
    }

    // spec 04 §2.3: the code-point sets of WOI_NAME_CHARS, the same for
    // event names in definitions and in the Web API.
    #[test]
    fn event_names_take_exactly_the_woi_name_chars() {
        for ok in ["佐々木", "EV\u{F900}", "ヴー", "ゝゞゟ", "ヽヾヿ", "ＡＺａｚ０９", "a@b+c_d-e"] {
            assert_eq!(check_event_name(ok), Ok(()), "{ok}");
        }
        for bad in ["EV・", "EV゠", "EV\u{3097}", "EV\u{30FB}", "ｶﾅ", "A B", "A\u{3000}B", "a.b", "EV😀"] {
            assert!(check_event_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_name_limit_is_12_legacy_bytes() {
        assert!(check_event_name("ABCDEFGHIJKL").is_ok());
        assert!(check_event_name("ABCDEFGHIJKLM").is_err());
        assert!(check_event_name("日本語イベント").is_err()); // 14 bytes
        assert!(check_event_name("日本語イベ").is_ok()); // 10 bytes
        assert!(check_event_name("a b").is_err());
        assert!(check_event_name("a@+_-").is_ok());
    }

    // MODEL-115
    #[test]
    fn model_115_copy_suffix_rules() {
        assert!(check_copy_suffix("s1").is_ok());
        assert!(check_copy_suffix("-bad").is_err());
        assert!(check_copy_suffix("a_b").is_err());
        assert!(check_copy_suffix(&"a".repeat(31)).is_err());
    }

    // MODEL-136
    #[test]
    fn model_136_project_name_forms_rejected() {
        for bad in ["#proj", "a/b", "a b", "ｱｲ", "a\u{E000}"] {
            assert!(check_project_name(bad).is_err(), "{bad} should be rejected");
        }
        assert!(check_project_name("Sales01").is_ok());
        assert!(check_project_name(&"a".repeat(51)).is_err());
    }

    #[test]
    fn variable_name_rules() {
        assert!(check_variable_name("DIR_1").is_ok());
        assert!(check_variable_name(&"V".repeat(64)).is_ok());
        assert!(check_variable_name(&"V".repeat(65)).is_err());
        assert!(check_variable_name("").is_err());
        assert!(check_variable_name("A-B").is_err());
        assert!(check_variable_name("日本").is_err());
    }

    #[test]
    fn netvar_prefix_rules() {
        assert!(check_netvar_prefix("A").is_ok());
        assert!(check_netvar_prefix(&"P".repeat(62)).is_ok());
        assert!(check_netvar_prefix(&"P".repeat(63)).is_err());
        assert!(check_netvar_prefix("").is_err());
        assert!(check_netvar_prefix("A.B").is_err());
    }

    #[test]
    fn jobnet_name_rules() {
        assert!(check_jobnet_name("DAILY_01").is_ok());
        assert!(check_jobnet_name(".x").is_err());
        assert!(check_jobnet_name("a:b").is_err());
        assert!(check_jobnet_name(&"n".repeat(50)).is_ok());
        assert!(check_jobnet_name(&"n".repeat(51)).is_err());
    }
}
