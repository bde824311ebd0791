//! An order-preserving JSON value and parser with Python-style error texts.
//!
//! Connection info keeps the order of `query`, `header`, `takeoverKeys` and
//! `jobnetValKeys` members (spec 03 §3.6), response bodies are printed in the
//! order received, and message 0632 reports syntax errors exactly in the shape
//! of Python's `json` module: `<message>: line <a> column <b> (char <c>)`
//! (§3.2), with `a`/`b` 1-based and `c` a 0-based character offset. A
//! duplicate object key keeps the position of its first occurrence and the
//! value of its last (the "last wins" rule).

use std::fmt;

/// A JSON value whose objects keep their member order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in document order (keys unique).
    Object(Vec<(String, Json)>),
}

/// A JSON syntax error, positioned like Python's `json.JSONDecodeError`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}: line {line} column {column} (char {pos})")]
pub struct JsonError {
    /// What was expected, e.g. `Expecting value`.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// 0-based character offset from the start of the text.
    pub pos: usize,
}

impl Json {
    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The elements of an array.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as text (spec 03 §3.4): a string without quotes, a number as
    /// serde_json writes it, `true`/`false`, `null`, containers as compact JSON.
    pub fn render(&self) -> String {
        match self {
            Json::String(s) => s.clone(),
            other => other.to_compact(),
        }
    }

    /// Compact JSON text.
    pub fn to_compact(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None, 0);
        out
    }

    /// JSON text indented by two spaces, non-ASCII characters unescaped.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(2), 0);
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>, level: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(&n.to_string()),
            Json::String(s) => write_string(out, s),
            Json::Array(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, level + 1);
                    item.write(out, indent, level + 1);
                }
                newline(out, indent, level);
                out.push(']');
            }
            Json::Object(members) => {
                if members.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, level + 1);
                    write_string(out, k);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    v.write(out, indent, level + 1);
                }
                newline(out, indent, level);
                out.push('}');
            }
        }
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_compact())
    }
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parse JSON text (one value, surrounded by optional whitespace).
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser { s: &chars, i: 0, depth: 0 };
    p.ws();
    let value = p.value()?;
    p.ws();
    if p.i < chars.len() {
        return Err(p.err("Extra data", p.i));
    }
    Ok(value)
}

/// Nesting depth beyond which the parser refuses (protects the stack).
const MAX_DEPTH: usize = 256;

struct Parser<'a> {
    s: &'a [char],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str, pos: usize) -> JsonError {
        let before = &self.s[..pos.min(self.s.len())];
        let line = 1 + before.iter().filter(|c| **c == '\n').count();
        let column = match before.iter().rposition(|c| *c == '\n') {
            Some(nl) => pos - nl,
            None => pos + 1,
        };
        JsonError { message: message.to_owned(), line, column, pos }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        match self.peek() {
            Some('{') => self.nested(Parser::object),
            Some('[') => self.nested(Parser::array),
            Some('"') => Ok(Json::String(self.string()?)),
            Some('n') if self.literal("null") => Ok(Json::Null),
            Some('t') if self.literal("true") => Ok(Json::Bool(true)),
            Some('f') if self.literal("false") => Ok(Json::Bool(false)),
            Some('-' | '0'..='9') => self.number(),
            _ => Err(self.err("Expecting value", self.i)),
        }
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Json, JsonError>) -> Result<Json, JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err("Maximum nesting depth exceeded", self.i));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn literal(&mut self, word: &str) -> bool {
        let n = word.chars().count();
        let ok = self.s.len() >= self.i + n && self.s[self.i..self.i + n].iter().copied().eq(word.chars());
        if ok {
            self.i += n;
        }
        ok
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.i;
        if self.peek() == Some('-') {
            self.i += 1;
        }
        match self.peek() {
            Some('0') => self.i += 1,
            Some('1'..='9') => {
                while matches!(self.peek(), Some('0'..='9')) {
                    self.i += 1;
                }
            }
            _ => return Err(self.err("Expecting value", start)),
        }
        if self.peek() == Some('.') && matches!(self.s.get(self.i + 1), Some('0'..='9')) {
            self.i += 1;
            while matches!(self.peek(), Some('0'..='9')) {
                self.i += 1;
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let mut j = self.i + 1;
            if matches!(self.s.get(j), Some('+' | '-')) {
                j += 1;
            }
            if matches!(self.s.get(j), Some('0'..='9')) {
                self.i = j;
                while matches!(self.peek(), Some('0'..='9')) {
                    self.i += 1;
                }
            }
        }
        let text: String = self.s[start..self.i].iter().collect();
        serde_json::from_str::<serde_json::Number>(&text)
            .map(Json::Number)
            .map_err(|_| self.err("Number out of range", start))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("Unterminated string starting at", start));
            };
            match c {
                '"' => {
                    self.i += 1;
                    return Ok(out);
                }
                '\\' => {
                    let esc = self.i;
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.err("Unterminated string starting at", start));
                    };
                    self.i += 1;
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{08}'),
                        'f' => out.push('\u{0c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let hi = self.hex4(esc)?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.peek() == Some('\\')
                                && self.s.get(self.i + 1) == Some(&'u')
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4(save)?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                                } else {
                                    out.push('\u{FFFD}');
                                    out.push(char::from_u32(lo).unwrap_or('\u{FFFD}'));
                                }
                            } else {
                                out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
                            }
                        }
                        _ => return Err(self.err("Invalid \\escape", esc)),
                    }
                }
                c if (c as u32) < 0x20 => return Err(self.err("Invalid control character at", self.i)),
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn hex4(&mut self, esc: usize) -> Result<u32, JsonError> {
        let digits: Option<String> = self.s.get(self.i..self.i + 4).map(|d| d.iter().collect());
        match digits.as_deref().and_then(|d| u32::from_str_radix(d, 16).ok().filter(|_| d.len() == 4)) {
            Some(v) => {
                self.i += 4;
                Ok(v)
            }
            None => Err(self.err("Invalid \\uXXXX escape", esc)),
        }
    }

    fn object(&mut self) -> Result<Json, JsonError> {
        self.i += 1;
        let mut members: Vec<(String, Json)> = Vec::new();
        self.ws();
        if self.peek() == Some('}') {
            self.i += 1;
            return Ok(Json::Object(members));
        }
        loop {
            if self.peek() != Some('"') {
                return Err(self.err("Expecting property name enclosed in double quotes", self.i));
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(':') {
                return Err(self.err("Expecting ':' delimiter", self.i));
            }
            self.i += 1;
            self.ws();
            let value = self.value()?;
            match members.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => members.push((key, value)),
            }
            self.ws();
            match self.peek() {
                Some('}') => {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                Some(',') => {
                    self.i += 1;
                    self.ws();
                }
                _ => return Err(self.err("Expecting ',' delimiter", self.i)),
            }
        }
    }

    fn array(&mut self) -> Result<Json, JsonError> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                Some(',') => self.i += 1,
                _ => return Err(self.err("Expecting ',' delimiter", self.i)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text).expect_err("must fail").to_string()
    }

    // CONN-001
    #[test]
    fn conn_001_python_shaped_errors() {
        assert_eq!(err(r#"{"a": 1,}"#), "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)");
        assert_eq!(err(""), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(
            err("{\n  \"request\": {\n  ,"),
            "Expecting property name enclosed in double quotes: line 3 column 3 (char 19)"
        );
        assert_eq!(err("[1 2]"), "Expecting ',' delimiter: line 1 column 4 (char 3)");
        assert_eq!(err("{\"a\" 1}"), "Expecting ':' delimiter: line 1 column 6 (char 5)");
        assert_eq!(err("{} x"), "Extra data: line 1 column 4 (char 3)");
        assert_eq!(err("\"abc"), "Unterminated string starting at: line 1 column 1 (char 0)");
    }

    // CONN-021
    #[test]
    fn conn_021_placeholder_outside_quotes_position() {
        assert_eq!(err(r#"{"reason": "stop", "id": <JOBID>}"#), "Expecting value: line 1 column 26 (char 25)");
    }

    #[test]
    fn order_and_duplicates_last_wins() {
        let v = parse(r#"{"b":1,"a":{"x":[1,2.5,"é"]},"b":3}"#).expect("valid");
        assert_eq!(v.to_compact(), r#"{"b":3,"a":{"x":[1,2.5,"é"]}}"#);
        assert_eq!(
            v.to_pretty(),
            "{\n  \"b\": 3,\n  \"a\": {\n    \"x\": [\n      1,\n      2.5,\n      \"é\"\n    ]\n  }\n}"
        );
        assert_eq!(parse("\"a\\u00e9\\n\"").expect("valid").render(), "aé\n");
        assert_eq!(parse("[]").expect("valid").to_pretty(), "[]");
    }
}
