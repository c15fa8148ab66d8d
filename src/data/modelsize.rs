//! A model file's memory before it is parsed: one pass over its JSON that counts the weights'
//! rows and numbers and every other value, allocating nothing; and the weights read fallibly.
//
// The counts give what parsing will hold (the weights as Vec<Vec<f64>> grown by doubling,
// every other value as serde_json values and strings) and what the model then takes in its
// precision; train::limits checks that against the memory available before parsing.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The shape of a weight matrix as written: its rows and the longest row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub rows: u64,
    pub longest: u64,
    pub numbers: u64,
}

/// What a model file holds, counted without parsing it into memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModelSize {
    /// The file's bytes (held while it is parsed).
    pub bytes: u64,
    pub w1: Shape,
    pub w2: Shape,
    /// Every other JSON value (numbers, strings, arrays, objects, keys).
    pub values: u64,
    /// The bytes of every other string, keys included.
    pub text: u64,
    /// 4 for an f32 model, 8 otherwise (f64 or unknown).
    pub elem_bytes: u64,
}

/// Bytes a Vec of `len` elements of `elem` bytes may take once grown by doubling (amortized
/// growth leaves up to twice the length; at least 4 elements; 16 bytes of malloc header).
fn grown(len: u64, elem: u64) -> u128 {
    if len == 0 {
        return 0;
    }
    let cap = len.max(4).checked_next_power_of_two().unwrap_or(u64::MAX) as u128;
    cap.saturating_mul(elem as u128).saturating_add(16)
}

impl ModelSize {
    /// Counts `bytes`; None when they are not JSON with an object at the top (the parser then
    /// says what is wrong).
    pub fn of(bytes: &[u8]) -> Option<ModelSize> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let mut size = de.deserialize_map(TopVisitor).ok()?;
        size.bytes = bytes.len() as u64;
        Some(size)
    }

    /// The memory parsing takes besides the file's bytes, and the model then built from it,
    /// part by part in bytes.
    pub fn parts(&self) -> Vec<(&'static str, u128)> {
        let weights = |s: Shape| -> u128 {
            // The outer Vec of rows (24 bytes each), each row grown by doubling.
            grown(s.rows, 24).saturating_add((s.rows as u128).saturating_mul(grown(s.longest, 8)))
        };
        let numbers = (self.w1.numbers as u128).saturating_add(self.w2.numbers as u128);
        vec![
            ("w1 as parsed", weights(self.w1)),
            ("w2 as parsed", weights(self.w2)),
            // A serde_json value is 32 bytes; a map entry, a string, a node about as much more.
            (
                "the other fields",
                (self.values as u128)
                    .saturating_mul(96)
                    .saturating_add(self.text as u128),
            ),
            (
                "the model's matrices",
                numbers.saturating_mul(self.elem_bytes as u128),
            ),
        ]
    }
}

/// The top-level object: `w1` and `w2` are counted as matrices, `precision` is looked at, the
/// rest counted as values.
struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = ModelSize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ModelSize, A::Error> {
        let mut size = ModelSize {
            elem_bytes: 8,
            ..ModelSize::default()
        };
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::W1 => size.w1 = map.next_value::<Shape>()?,
                Key::W2 => size.w2 = map.next_value::<Shape>()?,
                Key::Precision => {
                    let p = map.next_value::<Precision>()?;
                    size.elem_bytes = if p.0 { 4 } else { 8 };
                    size.values += 1;
                }
                Key::Other(len) => {
                    let c = map.next_value::<Count>()?;
                    size.values += c.values + 1;
                    size.text += c.text + len;
                }
            }
        }
        Ok(size)
    }
}

/// A top-level key, read without allocating.
enum Key {
    W1,
    W2,
    Precision,
    /// Another key, of this many bytes.
    Other(u64),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(match s {
                    "w1" => Key::W1,
                    "w2" => Key::W2,
                    "precision" => Key::Precision,
                    _ => Key::Other(s.len() as u64),
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// True when the value is the string "f32".
struct Precision(bool);

impl<'de> Deserialize<'de> for Precision {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Precision;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Precision, E> {
                Ok(Precision(s == "f32"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Precision, E> {
                Ok(Precision(false))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Precision, E> {
                Ok(Precision(false))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Precision, E> {
                Ok(Precision(false))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Precision, E> {
                Ok(Precision(false))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Precision, E> {
                Ok(Precision(false))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Precision, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Precision(false))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Precision, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Precision(false))
            }
        }
        d.deserialize_any(V)
    }
}

/// Any JSON value, counted: how many values (itself and all inside) and their text bytes.
#[derive(Default)]
struct Count {
    values: u64,
    text: u64,
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Count, E> {
                Ok(Count { values: 1, text: 0 })
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Count, E> {
                Ok(Count { values: 1, text: 0 })
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Count, E> {
                Ok(Count { values: 1, text: 0 })
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Count, E> {
                Ok(Count { values: 1, text: 0 })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Count, E> {
                Ok(Count { values: 1, text: 0 })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Count, E> {
                Ok(Count {
                    values: 1,
                    text: s.len() as u64,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Count, A::Error> {
                let mut c = Count { values: 1, text: 0 };
                while let Some(e) = s.next_element::<Count>()? {
                    c.values += e.values;
                    c.text += e.text;
                }
                Ok(c)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Count, A::Error> {
                let mut c = Count { values: 1, text: 0 };
                while let Some((k, v)) = m.next_entry::<Count, Count>()? {
                    c.values += k.values + v.values;
                    c.text += k.text + v.text;
                }
                Ok(c)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a matrix")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Shape, A::Error> {
                let mut shape = Shape::default();
                while let Some(row) = s.next_element::<Count>()? {
                    // A row [a, b, c] is one value for itself and one per number.
                    let len = row.values.saturating_sub(1);
                    shape.rows += 1;
                    shape.numbers += len;
                    shape.longest = shape.longest.max(len);
                }
                Ok(shape)
            }
            // Not a matrix: the parser says so; nothing to count.
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shape, E> {
                Ok(Shape::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shape, E> {
                Ok(Shape::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shape, E> {
                Ok(Shape::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shape, E> {
                Ok(Shape::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
                Ok(Shape::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Shape, E> {
                Ok(Shape::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Shape, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Shape::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads a weight matrix (`#[serde(deserialize_with)]` of w1 and w2) as serde would, but with
/// every buffer grown by `try_reserve`: memory refused is a parse error (exit 4), never an
/// abort.
pub fn weights<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
    struct Rows;
    impl<'de> Visitor<'de> for Rows {
        type Value = Vec<Vec<f64>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a sequence of rows of numbers")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
            let mut rows: Vec<Vec<f64>> = Vec::new();
            while let Some(row) = s.next_element_seed(Row)? {
                push(&mut rows, row)?;
            }
            Ok(rows)
        }
    }
    struct Row;
    impl<'de> DeserializeSeed<'de> for Row {
        type Value = Vec<f64>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<f64>, D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for Row {
        type Value = Vec<f64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a row of numbers")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Vec<f64>, A::Error> {
            let mut row = Vec::new();
            while let Some(v) = s.next_element::<f64>()? {
                push(&mut row, v)?;
            }
            Ok(row)
        }
    }
    fn push<T, E: de::Error>(v: &mut Vec<T>, x: T) -> Result<(), E> {
        if v.len() == v.capacity() {
            // Doubling, as Vec::push does (which ModelSize::parts counts on).
            let more = v.capacity().max(4);
            v.try_reserve_exact(more)
                .map_err(|_| E::custom(OUT_OF_MEMORY))?;
        }
        v.push(x);
        Ok(())
    }
    d.deserialize_seq(Rows)
}

/// The message of a weight matrix that did not fit (the loader recognizes it).
pub const OUT_OF_MEMORY: &str = "out of memory while reading the weights";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_weights_and_other_values_without_parsing_them() {
        let json = br#"{"format": "x", "precision": "f32", "w1": [[1, 2, 3], [4, 5, 6]],
            "w2": [[0.5, 0.25]], "prep": {"features": ["ab", "c"]}}"#;
        let s = ModelSize::of(json).unwrap();
        assert_eq!(
            s.w1,
            Shape {
                rows: 2,
                longest: 3,
                numbers: 6
            }
        );
        assert_eq!(
            s.w2,
            Shape {
                rows: 1,
                longest: 2,
                numbers: 2
            }
        );
        assert_eq!(s.elem_bytes, 4);
        // format: the key and "x"; precision; prep: its key, the object, "features", the
        // array and its two strings.
        assert_eq!(s.values, 2 + 1 + 6);
        assert_eq!(s.text, (6 + 1) + (4 + 8 + 2 + 1));
        assert!(ModelSize::of(b"[1, 2]").is_none());
        assert!(ModelSize::of(b"{\"w1\": ").is_none());
        // Weights that are not a matrix count as nothing (the parser refuses them).
        assert_eq!(
            ModelSize::of(br#"{"w1": "no"}"#).unwrap().w1,
            Shape::default()
        );
    }

    #[test]
    fn parts_grow_with_the_counts() {
        let s = ModelSize {
            w1: Shape {
                rows: 3_000_000,
                longest: 2,
                numbers: 6_000_000,
            },
            elem_bytes: 4,
            ..ModelSize::default()
        };
        let parts = s.parts();
        // 4M × 24 for the outer Vec, 3M rows of 4 × 8 + 16.
        assert_eq!(parts[0].1, (4u128 << 20) * 24 + 16 + 3_000_000 * 48);
        assert_eq!(parts[3].1, 24_000_000);
    }

    #[test]
    fn weights_read_as_serde_would() {
        #[derive(Deserialize)]
        struct W {
            #[serde(deserialize_with = "weights")]
            w: Vec<Vec<f64>>,
        }
        let w: W = serde_json::from_str(r#"{"w": [[1, 2.5], [], [3, 4, 5, 6, 7]]}"#).unwrap();
        assert_eq!(
            w.w,
            vec![vec![1.0, 2.5], vec![], vec![3.0, 4.0, 5.0, 6.0, 7.0]]
        );
        assert!(serde_json::from_str::<W>(r#"{"w": [[1, "a"]]}"#).is_err());
        assert!(serde_json::from_str::<W>(r#"{"w": 3}"#).is_err());
    }
}
