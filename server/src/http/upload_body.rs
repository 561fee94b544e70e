//! The JSON bodies of certificate uploads, parsed without a generic JSON tree of the P12.
//!
//! SPEC section 5 lets `p12` be an array of byte values (as Java clients send it) or a base64
//! string. As a `serde_json::Value`, every array element costs a tagged 32-byte node, so a 9 MB
//! body of byte values grew the process by over 200 MiB; here the array streams into a
//! `Vec<u8>` and a base64 string is decoded as it is read. The other fields are small and stay
//! `Value`s, so the handlers check them as before.
//!
//! Nothing here fails the parse for a bad value: a wrong `p12` becomes [`P12Field::Invalid`]
//! and a body or item of the wrong shape a variant saying so, after the rest of the value is
//! skipped. Only JSON syntax errors fail, and their messages never quote the input (serde's
//! type errors would: `invalid type: string "...", expected ...`).

use std::fmt;

use base64::Engine as _;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// A create body: a JSON array of certificate objects.
pub enum CreateBody {
    /// The items, at most `max_items` of them.
    Items(Vec<UploadItem>),
    /// An array of more than `max_items` items (the surplus was skipped, not kept).
    TooMany,
    /// Not an array.
    NotArray,
}

/// One certificate object of a create or replace body.
pub enum UploadItem {
    /// An object: its `p12` when present, and every other field.
    Object {
        /// The `p12` field.
        p12: Option<P12Field>,
        /// The other fields (`name`, `displayName`, `password`, ...).
        fields: Map<String, Value>,
    },
    /// Not an object.
    NotObject,
}

/// The `p12` field: the file's bytes, or why the value cannot be one.
pub enum P12Field {
    /// The decoded file (wiped on drop).
    Bytes(Zeroizing<Vec<u8>>),
    /// What is wrong, worded for the caller; never quotes the value.
    Invalid(&'static str),
}

/// Parses a create body of at most `max_items` items.
///
/// # Errors
/// The body is not JSON; the error's message and position never quote the input.
pub fn parse_create(body: &[u8], max_items: usize) -> Result<CreateBody, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = deserializer.deserialize_any(CreateBodyVisitor { max_items })?;
    deserializer.end()?;
    Ok(parsed)
}

/// Parses a replace body (one certificate object).
///
/// # Errors
/// The body is not JSON.
pub fn parse_item(body: &[u8]) -> Result<UploadItem, serde_json::Error> {
    serde_json::from_slice(body)
}

/// Java's `byte` is signed: -128..=-1 are the bytes 0x80..=0xff.
const BYTE_VALUES: &str =
    "p12 must hold byte values (0 to 255, or -128 to 127 as Java sends them)";
const P12_TYPE: &str = "p12 must be an array of byte values or a base64 string";
const P12_BASE64: &str = "p12 is a string but not valid base64";

// === visitors ===

/// Implements the [`Visitor`] methods of the JSON types a visitor does not accept: each skips
/// the value and returns `$value`.
macro_rules! refuse_other_types {
    ($value:expr; $($kind:ident),*) => {
        $(refuse_other_types!(@one $kind $value);)*
    };
    (@one bool $value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one number $value:expr) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($value) }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($value) }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one str $value:expr) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one unit $value:expr) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one seq $value:expr) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($value)
        }
    };
    (@one map $value:expr) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($value)
        }
    };
}

struct CreateBodyVisitor {
    max_items: usize,
}

impl<'de> Visitor<'de> for CreateBodyVisitor {
    type Value = CreateBody;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of certificates")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CreateBody, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<UploadItem>()? {
            if items.len() == self.max_items {
                drop(item);
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(CreateBody::TooMany);
            }
            items.push(item);
        }
        Ok(CreateBody::Items(items))
    }

    refuse_other_types!(CreateBody::NotArray; bool, number, str, unit, map);
}

impl<'de> Deserialize<'de> for UploadItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UploadItemVisitor)
    }
}

struct UploadItemVisitor;

impl<'de> Visitor<'de> for UploadItemVisitor {
    type Value = UploadItem;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a certificate object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UploadItem, A::Error> {
        let mut p12 = None;
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "p12" {
                p12 = Some(map.next_value::<P12Field>()?);
            } else {
                fields.insert(key, map.next_value::<Value>()?);
            }
        }
        Ok(UploadItem::Object { p12, fields })
    }

    refuse_other_types!(UploadItem::NotObject; bool, number, str, unit, seq);
}

impl<'de> Deserialize<'de> for P12Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(P12FieldVisitor)
    }
}

struct P12FieldVisitor;

impl<'de> Visitor<'de> for P12FieldVisitor {
    type Value = P12Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(P12_TYPE)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<P12Field, A::Error> {
        // No size hint from a JSON stream; the body limit bounds the length.
        let mut bytes = Zeroizing::new(Vec::new());
        while let Some(byte) = seq.next_element::<ByteValue>()? {
            match byte.0 {
                Some(byte) => bytes.push(byte),
                None => {
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    return Ok(P12Field::Invalid(BYTE_VALUES));
                }
            }
        }
        Ok(P12Field::Bytes(bytes))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<P12Field, E> {
        Ok(decode_base64(text).map_or(P12Field::Invalid(P12_BASE64), P12Field::Bytes))
    }

    refuse_other_types!(P12Field::Invalid(P12_TYPE); bool, number, unit, map);
}

/// One element of a byte array: `Some` for 0..=255 and -128..=-1, `None` for anything else.
struct ByteValue(Option<u8>);

impl<'de> Deserialize<'de> for ByteValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ByteValueVisitor)
    }
}

struct ByteValueVisitor;

impl<'de> Visitor<'de> for ByteValueVisitor {
    type Value = ByteValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte value")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<ByteValue, E> {
        Ok(ByteValue(u8::try_from(value).ok()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<ByteValue, E> {
        Ok(ByteValue(i8::try_from(value).ok().map(|v| v.to_ne_bytes()[0])))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ByteValue, E> {
        Ok(ByteValue(None))
    }

    refuse_other_types!(ByteValue(None); bool, str, unit, seq, map);
}

/// Standard or URL-safe base64, padded or not, whitespace (line breaks) ignored.
fn decode_base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(compact.as_bytes()).ok())
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests;
