//! Structured client frames: a JSON object built from arbitrary field values (any unicode, control
//! characters, negative and huge numbers, nested values), serialised by serde_json and parsed.
//!
//! The expected outcome comes from the field table of docs/protocol.md (section 2), restated in
//! [`SCHEMA`]: a well-typed frame parses to exactly the values put in; a wrong-typed, missing or
//! non-string `type`/`traceparent` field gives `invalid_frame`, an unknown type `unknown_type`,
//! and never `invalid_json` (the text is JSON by construction). Unknown fields are ignored.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use switchboard_fuzz::{
    KNOWN_TYPES, check_frame_error, expected_client_msg_id, expected_traceparent,
};
use switchboard_gateway::ws::protocol::{ClientFrame, ErrorCode, parse_traced};

/// How docs/protocol.md types a field.
#[derive(Debug, Clone, Copy)]
enum Ty {
    /// Required string.
    Str,
    /// Optional string: absent or null means none.
    OptStr,
    /// Required integer ≥ 0 (up to u64::MAX).
    U64,
    /// Required integer 0–255 (`score`; the 1–5 range is checked later, not by the parser).
    U8,
    /// Required bool.
    Bool,
    /// Optional bool, false when absent (null is wrong-typed).
    DefaultBool,
}

/// Every client frame type with its fields, in the order `Field`s are assigned to them.
const SCHEMA: [(&str, &[(&str, Ty)]); 12] = [
    ("auth", &[("token", Ty::Str)]),
    (
        "message",
        &[
            ("client_msg_id", Ty::Str),
            ("text", Ty::Str),
            ("conversation_id", Ty::OptStr),
            ("email", Ty::OptStr),
        ],
    ),
    (
        "resume",
        &[("conversation_id", Ty::Str), ("after_seq", Ty::U64)],
    ),
    (
        "typing",
        &[("conversation_id", Ty::Str), ("state", Ty::Bool)],
    ),
    (
        "close",
        &[
            ("conversation_id", Ty::Str),
            ("request_rating", Ty::DefaultBool),
        ],
    ),
    ("status", &[("status", Ty::Str)]),
    ("claim", &[("conversation_id", Ty::Str)]),
    (
        "transfer",
        &[
            ("conversation_id", Ty::Str),
            ("to_agent_id", Ty::OptStr),
            ("to_department_id", Ty::OptStr),
            ("note", Ty::OptStr),
        ],
    ),
    ("note", &[("conversation_id", Ty::Str), ("text", Ty::Str)]),
    (
        "rate",
        &[
            ("conversation_id", Ty::Str),
            ("score", Ty::U8),
            ("comment", Ty::OptStr),
        ],
    ),
    ("read", &[("conversation_id", Ty::Str), ("seq", Ty::U64)]),
    ("ping", &[]),
];

#[derive(Debug, Arbitrary)]
struct Input {
    kind: Kind,
    /// Values of the type's fields, in [`SCHEMA`] order; missing ones are well-typed defaults.
    fields: Vec<Field>,
    /// Fields the protocol does not know (or, by chance, does: the expectation reads the final
    /// object, so a collision is fine).
    extra: Vec<(String, Json)>,
    traceparent: Traceparent,
    pretty: bool,
}

#[derive(Debug, Arbitrary)]
enum Kind {
    Known(u8),
    Named(String),
    NotAString(Json),
    Absent,
}

#[derive(Debug, Arbitrary)]
enum Field {
    /// The right type for the field, from these values.
    WellTyped {
        text: String,
        number: u64,
        flag: bool,
        present: bool,
    },
    /// Anything at all.
    Raw(Json),
}

#[derive(Debug, Arbitrary)]
enum Traceparent {
    Absent,
    WellFormed {
        trace_id: u128,
        parent_id: u64,
        flags: u8,
    },
    Text(String),
    Raw(Json),
}

/// A JSON value; `Absent` leaves the field out.
#[derive(Debug, Arbitrary)]
enum Json {
    Absent,
    Null,
    Bool(bool),
    Negative(i64),
    Unsigned(u64),
    Float(f64),
    Text(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Returns the value, nesting at most a few levels (serde_json refuses more than 128).
    fn to_value(&self, depth: usize) -> Option<Value> {
        Some(match self {
            Self::Absent => return None,
            Self::Null => Value::Null,
            Self::Bool(flag) => Value::Bool(*flag),
            Self::Negative(number) => Value::from(*number),
            Self::Unsigned(number) => Value::from(*number),
            // Non-finite floats become null, as serde_json writes them.
            Self::Float(number) => Value::from(*number),
            Self::Text(text) => Value::String(text.clone()),
            _ if depth >= 4 => Value::Null,
            Self::Array(items) => Value::Array(
                items
                    .iter()
                    .filter_map(|item| item.to_value(depth + 1))
                    .collect(),
            ),
            Self::Object(entries) => Value::Object(
                entries
                    .iter()
                    .filter_map(|(key, item)| Some((key.clone(), item.to_value(depth + 1)?)))
                    .collect(),
            ),
        })
    }
}

impl Field {
    fn to_value(&self, ty: Ty) -> Option<Value> {
        let (text, number, flag, present) = match self {
            Self::Raw(json) => return json.to_value(0),
            Self::WellTyped {
                text,
                number,
                flag,
                present,
            } => (text, number, flag, present),
        };
        match ty {
            Ty::Str => Some(Value::String(text.clone())),
            Ty::OptStr => present.then(|| Value::String(text.clone())),
            Ty::U64 => Some(Value::from(*number)),
            Ty::U8 => Some(Value::from(*number % 256)),
            Ty::Bool => Some(Value::Bool(*flag)),
            Ty::DefaultBool => present.then_some(Value::Bool(*flag)),
        }
    }
}

/// Returns whether the parser must accept `value` for a field of type `ty`.
fn well_typed(value: Option<&Value>, ty: Ty) -> bool {
    match (ty, value) {
        (Ty::Str | Ty::OptStr, Some(Value::String(_))) => true,
        (Ty::OptStr, None | Some(Value::Null)) => true,
        (Ty::U64, Some(Value::Number(number))) => number.as_u64().is_some(),
        (Ty::U8, Some(Value::Number(number))) => number.as_u64().is_some_and(|n| n <= 255),
        (Ty::Bool | Ty::DefaultBool, Some(Value::Bool(_))) => true,
        (Ty::DefaultBool, None) => true,
        _ => false,
    }
}

/// Returns the frame `object` must parse to, or the code it must be refused with.
fn expect(object: &Map<String, Value>) -> Result<ClientFrame, ErrorCode> {
    match object.get("traceparent") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(_) => return Err(ErrorCode::InvalidFrame),
    }
    let Some(Value::String(kind)) = object.get("type") else {
        return Err(ErrorCode::InvalidFrame);
    };
    let Some((_, fields)) = SCHEMA.iter().find(|(name, _)| name == kind) else {
        return Err(ErrorCode::UnknownType);
    };
    if !fields
        .iter()
        .all(|(name, ty)| well_typed(object.get(*name), *ty))
    {
        return Err(ErrorCode::InvalidFrame);
    }
    // Every field is well-typed from here on.
    let optional = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
    let string = |name: &str| optional(name).expect("checked: a string");
    let number = |name: &str| object.get(name).and_then(Value::as_u64).expect("checked");
    let flag = |name: &str| object.get(name).and_then(Value::as_bool).unwrap_or(false);
    Ok(match kind.as_str() {
        "auth" => ClientFrame::Auth {
            token: string("token"),
        },
        "message" => ClientFrame::Message {
            client_msg_id: string("client_msg_id"),
            text: string("text"),
            conversation_id: optional("conversation_id"),
            email: optional("email"),
        },
        "resume" => ClientFrame::Resume {
            conversation_id: string("conversation_id"),
            after_seq: number("after_seq"),
        },
        "typing" => ClientFrame::Typing {
            conversation_id: string("conversation_id"),
            state: flag("state"),
        },
        "close" => ClientFrame::Close {
            conversation_id: string("conversation_id"),
            request_rating: flag("request_rating"),
        },
        "status" => ClientFrame::Status {
            status: string("status"),
        },
        "claim" => ClientFrame::Claim {
            conversation_id: string("conversation_id"),
        },
        "transfer" => ClientFrame::Transfer {
            conversation_id: string("conversation_id"),
            to_agent_id: optional("to_agent_id"),
            to_department_id: optional("to_department_id"),
            note: optional("note"),
        },
        "note" => ClientFrame::Note {
            conversation_id: string("conversation_id"),
            text: string("text"),
        },
        "rate" => ClientFrame::Rate {
            conversation_id: string("conversation_id"),
            score: u8::try_from(number("score")).expect("checked: at most 255"),
            comment: optional("comment"),
        },
        "read" => ClientFrame::Read {
            conversation_id: string("conversation_id"),
            seq: number("seq"),
        },
        "ping" => ClientFrame::Ping,
        other => unreachable!("{other} is in SCHEMA but not here"),
    })
}

fn build(input: &Input) -> Map<String, Value> {
    let mut object = Map::new();
    for (name, value) in &input.extra {
        if let Some(value) = value.to_value(0) {
            object.insert(name.clone(), value);
        }
    }
    let kind = match &input.kind {
        Kind::Known(index) => Some(Value::from(KNOWN_TYPES[usize::from(*index) % 12])),
        Kind::Named(name) => Some(Value::String(name.clone())),
        Kind::NotAString(json) => json.to_value(0),
        Kind::Absent => None,
    };
    let schema = kind
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|kind| SCHEMA.iter().find(|(name, _)| *name == kind));
    if let Some((_, fields)) = schema {
        let defaults = Field::WellTyped {
            text: "x".into(),
            number: 1,
            flag: true,
            present: true,
        };
        for (index, (name, ty)) in fields.iter().enumerate() {
            let field = input.fields.get(index).unwrap_or(&defaults);
            match field.to_value(*ty) {
                Some(value) => object.insert((*name).to_owned(), value),
                None => object.remove(*name),
            };
        }
    }
    match kind {
        Some(kind) => object.insert("type".into(), kind),
        None => object.remove("type"),
    };
    let traceparent = match &input.traceparent {
        Traceparent::Absent => None,
        Traceparent::WellFormed {
            trace_id,
            parent_id,
            flags,
        } => Some(Value::String(format!(
            "00-{trace_id:032x}-{parent_id:016x}-{flags:02x}"
        ))),
        Traceparent::Text(text) => Some(Value::String(text.clone())),
        Traceparent::Raw(json) => json.to_value(0),
    };
    match traceparent {
        Some(traceparent) => object.insert("traceparent".into(), traceparent),
        None => object.remove("traceparent"),
    };
    object
}

fuzz_target!(|input: Input| {
    let object = build(&input);
    let text = if input.pretty {
        serde_json::to_string_pretty(&object)
    } else {
        serde_json::to_string(&object)
    }
    .expect("a JSON object serialises");
    let value = Value::Object(object);

    let parsed = parse_traced(&text);
    match (
        &parsed.frame,
        expect(value.as_object().expect("built as an object")),
    ) {
        (Ok(frame), Ok(expected)) => assert_eq!(frame, &expected, "{text}"),
        (Err(error), Err(code)) => {
            assert_eq!(error.code, code, "{text}: {}", error.message);
            check_frame_error(error);
            assert_eq!(error.client_msg_id, expected_client_msg_id(Some(&value)));
        }
        (Ok(frame), Err(code)) => panic!("{text}: parsed as {frame:?}, expected {code:?}"),
        (Err(error), Ok(expected)) => panic!(
            "{text}: refused with {:?} ({}), expected {expected:?}",
            error.code, error.message
        ),
    }
    assert_eq!(
        parsed.traceparent.as_deref(),
        expected_traceparent(Some(&value)),
        "{text}"
    );
});
