//! Typed identifiers: [`JobId`], [`VertexId`], [`TriggerId`], [`JarId`], [`TaskManagerId`].
//!
//! Decoding from Flink never validates (a newer Flink must not break decoding); parsing user
//! input with [`std::str::FromStr`] does: job, vertex and trigger ids are 32 hexadecimal
//! characters, jar ids are a file name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Accepts exactly 32 ASCII hex digits (Flink's `AbstractID` text form).
fn check_hex32(kind: &'static str, s: &str) -> Result<(), Error> {
    let invalid = |reason| Error::InvalidId {
        kind,
        value: s.to_owned(),
        reason,
    };
    if s.len() != 32 {
        return Err(invalid("expected 32 hexadecimal characters"));
    }
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid("expected only hexadecimal characters"));
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident, $kind:literal, $check:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The identifier as Flink spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a string without validating it (for values that came from Flink).
            pub fn from_flink(s: impl Into<String>) -> Self {
                Self(s.into())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                let check: fn(&'static str, &str) -> Result<(), Error> = $check;
                check($kind, s)?;
                Ok(Self(s.to_owned()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A job id: 32 hexadecimal characters.
    JobId, "job id", check_hex32
);
string_id!(
    /// A job vertex id: 32 hexadecimal characters.
    VertexId, "vertex id", check_hex32
);
string_id!(
    /// The id of an asynchronous operation (savepoint, stop-with-savepoint): 32 hex characters.
    TriggerId, "trigger id", check_hex32
);
string_id!(
    /// An uploaded jar: the file name Flink gave it (`<uuid>_<name>.jar`).
    JarId, "jar id", |kind, s| {
        if s.is_empty() || s.contains('/') || s.contains('\\') || s == "." || s == ".." {
            return Err(Error::InvalidId { kind, value: s.to_owned(), reason: "expected a file name" });
        }
        Ok(())
    }
);
string_id!(
    /// A TaskManager's resource id (e.g. `127.0.0.1:28402-7814fe`).
    TaskManagerId, "TaskManager id", |kind, s| {
        if s.is_empty() {
            return Err(Error::InvalidId { kind, value: String::new(), reason: "expected a non-empty id" });
        }
        Ok(())
    }
);

impl TriggerId {
    /// A fresh random trigger id. Passing one to a trigger call makes the call idempotent:
    /// a control plane can record the id before triggering and, after a crash, poll the same
    /// operation instead of starting a second one.
    pub fn random() -> Self {
        let n: u128 = rand::random();
        Self(format!("{n:032x}"))
    }
}

impl JarId {
    /// The jar id from the `filename` Flink returns on upload (the last path component).
    pub fn from_upload_filename(filename: &str) -> Option<Self> {
        let name = filename.rsplit(['/', '\\']).next()?;
        if name.is_empty() {
            None
        } else {
            Some(Self(name.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_id_parse() {
        let ok: JobId = "46cad4895dbd708852ee30bbe397b006".parse().expect("valid");
        assert_eq!(ok.as_str(), "46cad4895dbd708852ee30bbe397b006");
        assert!("46cad4895dbd708852ee30bbe397b00".parse::<JobId>().is_err());
        assert!("46cad4895dbd708852ee30bbe397b00g".parse::<JobId>().is_err());
        assert!("".parse::<JobId>().is_err());
        let e = "nope".parse::<JobId>().expect_err("invalid");
        assert!(e.to_string().contains("job id"), "{e}");
    }

    #[test]
    fn trigger_id_random_is_valid_and_distinct() {
        let a = TriggerId::random();
        let b = TriggerId::random();
        assert_ne!(a, b);
        assert!(a.as_str().parse::<TriggerId>().is_ok());
    }

    #[test]
    fn jar_id_from_upload() {
        let id = JarId::from_upload_filename("/tmp/x/flink-web-upload/e331_job.jar").expect("id");
        assert_eq!(id.as_str(), "e331_job.jar");
        assert!(JarId::from_upload_filename("/tmp/x/").is_none());
        assert!("a/b.jar".parse::<JarId>().is_err());
        assert!("..".parse::<JarId>().is_err());
    }

    #[test]
    fn ids_are_transparent_in_json() {
        let id: JobId = serde_json::from_str("\"abc\"").expect("decoding never validates");
        assert_eq!(serde_json::to_string(&id).expect("encode"), "\"abc\"");
    }
}
