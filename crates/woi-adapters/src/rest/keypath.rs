//! Key paths: extracting values from JSON and XML responses (spec 03 §3.4).
//!
//! ```text
//! path     := segment ( "." segment )*
//! segment  := name | "[" index "]" | "[?" '"' fkey '"' "==" lit "]"
//! lit      := '"' string '"' | number
//! ```
//!
//! A filter selects the first object of an array whose member `fkey` equals
//! the literal: a quoted literal matches only a string with identical text, a
//! number only a number with the same value. A path that does not parse finds
//! nothing.
//!
//! XML documents are turned into the same tree ([`xml_to_json`]): the root
//! element's local name is the first segment, child elements are members keyed
//! by local name, repeated names become arrays in document order, leaf
//! elements are their trimmed text, attributes and mixed text are ignored.

use quick_xml::events::Event;

use super::json::Json;

/// One step of a key path.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    /// Member of an object.
    Name(String),
    /// Element of an array, 0-based.
    Index(usize),
    /// First object in an array whose member `key` equals `value`.
    Filter {
        /// The member compared.
        key: String,
        /// The literal it must equal.
        value: Literal,
    },
}

/// The literal of a filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `"text"`: matches a JSON string with identical text.
    Str(String),
    /// A number: matches a JSON number with the same value.
    Num(f64),
}

/// Parse a key path; `None` when it does not follow the grammar.
pub fn parse(path: &str) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    let mut rest = path;
    loop {
        let (segment, after) = if let Some(inner) = rest.strip_prefix('[') {
            bracket(inner)?
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            let name = &rest[..end];
            if name.is_empty() {
                return None;
            }
            (Segment::Name(name.to_owned()), &rest[end..])
        };
        segments.push(segment);
        if after.is_empty() {
            return Some(segments);
        }
        rest = after.strip_prefix('.')?;
    }
}

/// Parse the inside of `[...]` (after the `[`); returns the segment and what
/// follows the `]`.
fn bracket(inner: &str) -> Option<(Segment, &str)> {
    if let Some(filter) = inner.strip_prefix('?') {
        let body = filter.strip_prefix('"')?;
        let q = body.find('"')?;
        let key = &body[..q];
        let after_key = body[q + 1..].strip_prefix("==")?;
        let (value, after) = if let Some(s) = after_key.strip_prefix('"') {
            let q = s.find('"')?;
            (Literal::Str(s[..q].to_owned()), s[q + 1..].strip_prefix(']')?)
        } else {
            let end = after_key.find(']')?;
            let num: f64 = after_key[..end].trim().parse().ok().filter(|n: &f64| n.is_finite())?;
            (Literal::Num(num), &after_key[end + 1..])
        };
        if key.is_empty() {
            return None;
        }
        Some((Segment::Filter { key: key.to_owned(), value }, after))
    } else {
        let end = inner.find(']')?;
        let digits = &inner[..end];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((Segment::Index(digits.parse().ok()?), &inner[end + 1..]))
    }
}

/// The value at `path` in `doc`, if any.
pub fn extract<'a>(doc: &'a Json, path: &str) -> Option<&'a Json> {
    let segments = parse(path)?;
    let mut cur = doc;
    for segment in &segments {
        cur = match segment {
            Segment::Name(name) => match cur {
                Json::Object(_) => cur.get(name)?,
                _ => return None,
            },
            Segment::Index(i) => cur.as_array()?.get(*i)?,
            Segment::Filter { key, value } => cur.as_array()?.iter().find(|item| matches(item.get(key), value))?,
        };
    }
    Some(cur)
}

fn matches(member: Option<&Json>, literal: &Literal) -> bool {
    match (member, literal) {
        (Some(Json::String(s)), Literal::Str(l)) => s == l,
        (Some(Json::Number(n)), Literal::Num(l)) => n.as_f64() == Some(*l),
        _ => false,
    }
}

/// Whether a `Content-Type` value names JSON (`application/json`, parameters
/// and case ignored).
pub fn is_json_type(content_type: &str) -> bool {
    media_type(content_type) == "application/json"
}

/// Whether a `Content-Type` value names XML (`application/xml`, `text/xml`).
pub fn is_xml_type(content_type: &str) -> bool {
    matches!(media_type(content_type).as_str(), "application/xml" | "text/xml")
}

fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

struct Element {
    name: String,
    children: Vec<(String, Json)>,
    text: String,
}

impl Element {
    fn new(name: &str) -> Element {
        Element { name: name.to_owned(), children: Vec::new(), text: String::new() }
    }

    fn into_value(self) -> Json {
        if self.children.is_empty() {
            return Json::String(self.text.trim().to_owned());
        }
        let mut members: Vec<(String, Json)> = Vec::new();
        for (name, value) in self.children {
            match members.iter_mut().find(|(k, _)| *k == name) {
                Some((_, Json::Array(items))) => items.push(value),
                Some((_, slot)) => {
                    let first = std::mem::replace(slot, Json::Null);
                    *slot = Json::Array(vec![first, value]);
                }
                None => members.push((name, value)),
            }
        }
        Json::Object(members)
    }
}

/// Convert a well-formed XML document into the key-path tree; `None` when it
/// is not well-formed (unclosed or mismatched tags, no or several root
/// elements, text outside the root).
pub fn xml_to_json(text: &str) -> Option<Json> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Json> = None;
    loop {
        let event = reader.read_event().ok()?;
        match event {
            Event::Start(e) => {
                if stack.is_empty() && root.is_some() {
                    return None;
                }
                stack.push(Element::new(e.local_name().as_ref()));
            }
            Event::Empty(e) => {
                let element = Element::new(e.local_name().as_ref());
                let name = element.name.clone();
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, element.into_value())),
                    None if root.is_none() => root = Some(Json::Object(vec![(name, element.into_value())])),
                    None => return None,
                }
            }
            Event::End(_) => {
                let element = stack.pop()?;
                let name = element.name.clone();
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, element.into_value())),
                    None => root = Some(Json::Object(vec![(name, element.into_value())])),
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return None,
                }
            }
            Event::CData(c) => match stack.last_mut() {
                Some(el) => el.text.push_str(&c.into_inner()),
                None => return None,
            },
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten().map(String::from)
                } else {
                    quick_xml::escape::resolve_predefined_entity(&r.xml10_content()).map(str::to_owned)
                };
                match (stack.last_mut(), resolved) {
                    (Some(el), Some(s)) => el.text.push_str(&s),
                    _ => return None,
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return None;
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::json::parse as json;

    fn doc() -> Json {
        json(r#"{"id":"id001","info":{"hoge":"fuga"},"properties":[{"name":"aaa","rc":2},{"name":"bbb","rc":0}]}"#)
            .expect("valid")
    }

    fn get(doc: &Json, path: &str) -> Option<String> {
        extract(doc, path).map(Json::render)
    }

    // KEY-001
    #[test]
    fn key_001_guide_example() {
        let d = doc();
        assert_eq!(get(&d, "id").as_deref(), Some("id001"));
        assert_eq!(get(&d, "info.hoge").as_deref(), Some("fuga"));
        assert_eq!(get(&d, r#"properties.[?"name"=="bbb"].rc"#).as_deref(), Some("0"));
        assert_eq!(get(&d, "properties.[1].rc").as_deref(), Some("0"));
        assert_eq!(get(&d, "properties.[0].rc").as_deref(), Some("2"));
    }

    // KEY-002
    #[test]
    fn key_002_filter_without_match_is_not_found() {
        assert_eq!(get(&doc(), r#"properties.[?"name"=="zzz"].rc"#), None);
    }

    // KEY-003
    #[test]
    fn key_003_filter_takes_first_match() {
        let d = json(r#"{"list":[{"k":"a","v":1},{"k":"a","v":2}]}"#).expect("valid");
        assert_eq!(get(&d, r#"list.[?"k"=="a"].v"#).as_deref(), Some("1"));
    }

    // KEY-004
    #[test]
    fn key_004_array_in_array() {
        let d = json(r#"{"data":[["a","b","c","d","e","f","SUCCEEDED"]]}"#).expect("valid");
        assert_eq!(get(&d, "data.[0].[6]").as_deref(), Some("SUCCEEDED"));
    }

    // KEY-005
    #[test]
    fn key_005_numeric_filter_matches_numbers_only() {
        let d = json(r#"{"items":[{"code":"7","name":"s"},{"code":7,"name":"n"}]}"#).expect("valid");
        assert_eq!(get(&d, r#"items.[?"code"==7].name"#).as_deref(), Some("n"));
        let only_string = json(r#"{"items":[{"code":"7","name":"s"}]}"#).expect("valid");
        assert_eq!(get(&only_string, r#"items.[?"code"==7].name"#), None);
    }

    // KEY-006
    #[test]
    fn key_006_rendering_of_non_strings() {
        let d = json(r#"{"info":{"a":1},"t":true,"n":null,"f":3.5}"#).expect("valid");
        assert_eq!(get(&d, "info").as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(get(&d, "t").as_deref(), Some("true"));
        assert_eq!(get(&d, "n").as_deref(), Some("null"));
        assert_eq!(get(&d, "f").as_deref(), Some("3.5"));
    }

    // KEY-007
    #[test]
    fn key_007_index_out_of_range_and_wrong_kinds() {
        let d = json(r#"{"statuses":[{"displayStatus":"a"},{"displayStatus":"b"}]}"#).expect("valid");
        assert_eq!(get(&d, "statuses.[5].displayStatus"), None);
        assert_eq!(get(&d, "statuses.displayStatus"), None);
        assert_eq!(get(&d, "statuses.[1].[0]"), None);
        assert_eq!(get(&d, "statuses..x"), None);
    }

    // KEY-008
    #[test]
    fn key_008_xml_namespaces_dropped() {
        let d = xml_to_json(r#"<?xml version="1.0"?><R xmlns="urn:x"><S><T> running </T></S></R>"#).expect("xml");
        assert_eq!(get(&d, "R.S.T").as_deref(), Some("running"));
        let p = xml_to_json(r#"<a:R xmlns:a="urn:a"><a:S>x &amp; y</a:S></a:R>"#).expect("xml");
        assert_eq!(get(&p, "R.S").as_deref(), Some("x & y"));
    }

    // KEY-009
    #[test]
    fn key_009_xml_repeated_elements_become_arrays() {
        let d = xml_to_json("<Set><item><name>a</name></item><item><name>b</name></item><one/></Set>").expect("xml");
        assert_eq!(get(&d, "Set.item.name"), None);
        assert_eq!(get(&d, "Set.item.[1].name").as_deref(), Some("b"));
        assert_eq!(get(&d, "Set.one").as_deref(), Some(""));
    }

    // OUT-003
    #[test]
    fn out_003_malformed_xml_is_rejected() {
        assert_eq!(xml_to_json("<a><b>1</a>"), None);
        assert_eq!(xml_to_json("<a>"), None);
        assert_eq!(xml_to_json("{oops"), None);
        assert_eq!(xml_to_json("<a/><b/>"), None);
        assert!(xml_to_json("<a><b>1</b></a>").is_some());
    }

    // KEY-011
    #[test]
    fn key_011_media_types() {
        assert!(is_json_type("application/json; charset=utf-8"));
        assert!(is_json_type("Application/JSON"));
        assert!(!is_json_type("text/plain"));
        assert!(is_xml_type("text/xml;charset=UTF-8"));
        assert!(is_xml_type("application/xml"));
    }
}
