//! The [`Secret`] type: a string that does not show itself.

use std::fmt;

use serde::{Deserialize, Deserializer, Serializer};
use zeroize::Zeroize;

/// A token, key or client secret.
///
/// `Debug` and `Display` print `[redacted]`, so a secret inside a struct that is logged
/// or formatted into an error stays hidden. `Serialize` is deliberately not implemented:
/// a struct holding a `Secret` cannot be turned into JSON by accident; code that really
/// must write one out opts in per field with [`serialize_exposed`]. The memory is zeroed
/// when the secret is dropped, so it does not linger in freed heap pages.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value. Prefer passing an owned `String`: it is moved, not copied.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's text. Named so that every place that reads it stands out in review.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string (the stores refuse to keep those).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Reading a secret from input (a request body, a settings form) is harmless, so
/// `Deserialize` is implemented; only the way out is guarded.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// Writes the secret's text with serde, for the rare field that must carry it, e.g.
/// `#[serde(serialize_with = "keybridge_secrets::serialize_exposed")]`. The attribute is
/// the explicit, greppable opt-in that `Secret` itself refuses to give.
pub fn serialize_exposed<S: Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&secret)), "Some([redacted])");
    }

    #[test]
    fn a_struct_holding_a_secret_debug_prints_redacted() {
        #[derive(Debug)]
        #[allow(dead_code)] // only read through Debug
        struct Config {
            token: Secret,
        }
        let printed = format!(
            "{:?}",
            Config {
                token: Secret::new("tok-123")
            }
        );
        assert_eq!(printed, "Config { token: [redacted] }");
    }

    #[test]
    fn expose_returns_the_value() {
        assert_eq!(Secret::from("abc").expose(), "abc");
        assert_eq!(Secret::from(String::from("xyz")).expose(), "xyz");
        assert!(Secret::new("").is_empty());
    }

    #[test]
    fn deserializes_from_a_json_string() {
        let secret: Secret = match serde_json::from_str("\"s3cr3t\"") {
            Ok(secret) => secret,
            Err(err) => panic!("deserialize failed: {err}"),
        };
        assert_eq!(secret.expose(), "s3cr3t");
    }

    #[test]
    fn serialize_exposed_is_the_explicit_way_into_json() {
        #[derive(serde::Serialize)]
        struct Export {
            #[serde(serialize_with = "serialize_exposed")]
            token: Secret,
        }
        let json = serde_json::to_string(&Export {
            token: Secret::new("t0k"),
        });
        assert_eq!(json.ok().as_deref(), Some(r#"{"token":"t0k"}"#));
    }
}
