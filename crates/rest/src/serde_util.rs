//! Decoding helpers for Flink's loose JSON: numbers that arrive as strings (`"NaN"`, `"0.0"`),
//! and documents embedded as JSON strings (the job plan in Flink 2.x).

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};

/// A number Flink may send as a JSON number or as a string (`"NaN"`, `"Infinity"`, `"12.5"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr {
    Num(f64),
    Str(String),
}

fn parse_num<E: de::Error>(v: NumOrStr) -> Result<f64, E> {
    match v {
        NumOrStr::Num(n) => Ok(n),
        NumOrStr::Str(s) => match s.trim() {
            "NaN" | "nan" => Ok(f64::NAN),
            "Infinity" | "inf" => Ok(f64::INFINITY),
            "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
            t => t
                .parse::<f64>()
                .map_err(|_| E::custom(format!("expected a number, got {s:?}"))),
        },
    }
}

/// `deserialize_with` for an `f64` that may be a number or a numeric string.
pub(crate) fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    parse_num(NumOrStr::deserialize(d)?)
}

/// `deserialize_with` for an `Option<f64>` that may be absent, null, a number or a string.
pub(crate) fn lenient_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(v) => parse_num(v).map(Some),
    }
}

/// `deserialize_with` for a value that is either the JSON document itself or a string
/// containing it (Flink 2.x sends the job plan as a string).
pub(crate) fn json_or_json_string<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Option::<serde_json::Value>::deserialize(d)?;
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => {
            let mut de = serde_json::Deserializer::from_str(&s);
            serde_path_to_error::deserialize(&mut de)
                .map(Some)
                .map_err(|e| {
                    de::Error::custom(format!("embedded JSON at `{}`: {}", e.path(), e.inner()))
                })
        }
        Some(other) => serde_path_to_error::deserialize(other)
            .map(Some)
            .map_err(|e| de::Error::custom(format!("at `{}`: {}", e.path(), e.inner()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct N {
        #[serde(deserialize_with = "lenient_f64")]
        v: f64,
        #[serde(default, deserialize_with = "lenient_opt_f64")]
        o: Option<f64>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Inner {
        a: u32,
    }

    #[derive(Deserialize)]
    struct P {
        #[serde(default, deserialize_with = "json_or_json_string")]
        p: Option<Inner>,
    }

    #[test]
    fn numbers_or_strings() {
        let n: N = serde_json::from_str(r#"{"v":"NaN"}"#).expect("nan");
        assert!(n.v.is_nan());
        assert_eq!(n.o, None);
        let n: N = serde_json::from_str(r#"{"v":3,"o":"2.5"}"#).expect("num");
        assert_eq!((n.v, n.o), (3.0, Some(2.5)));
        assert!(serde_json::from_str::<N>(r#"{"v":"many"}"#).is_err());
    }

    #[test]
    fn embedded_json() {
        let a: P = serde_json::from_str(r#"{"p":{"a":1}}"#).expect("object");
        let b: P = serde_json::from_str(r#"{"p":"{\"a\":1}"}"#).expect("string");
        let c: P = serde_json::from_str(r#"{}"#).expect("absent");
        assert_eq!(a.p, Some(Inner { a: 1 }));
        assert_eq!(b.p, Some(Inner { a: 1 }));
        assert_eq!(c.p, None);
        let e = serde_json::from_str::<P>(r#"{"p":"{\"a\":\"x\"}"}"#)
            .err()
            .expect("bad embedded");
        assert!(e.to_string().contains("`a`"), "{e}");
    }
}
