//! Unicode preparation of names: the PRECIS UsernameCaseMapped profile (RFC 8265 §3.3)
//! for userName uniqueness, and the caseless comparison used by filters.

use unicode_normalization::UnicodeNormalization;

/// The key under which a userName is unique: RFC 8265 §3.3.2 UsernameCaseMapped
/// preparation — width mapping (fullwidth and halfwidth forms to their ordinary
/// equivalents), case mapping, NFC — after trimming surrounding whitespace. So
/// `élodie`, `ÉLODIE`, `e\u{301}lodie` and `ｅｌｏｄｉｅ` share one key.
///
/// Case mapping uses Unicode full default case folding (RFC 7613's choice; RFC 8265 names
/// toLowerCase) so that the key agrees with the case-insensitive comparison filters use
/// ([`fold_case`]): `Straße` and `STRASSE` are the same name in both places.
pub fn username_key(s: &str) -> String {
    if s.is_ascii() {
        // Nothing to widen (every POST computes a key; see fold_case's own shortcut).
        return fold_case(s.trim());
    }
    let mut widened = String::with_capacity(s.len());
    for c in s.chars() {
        if is_wide_or_narrow(c) {
            widened.extend(std::iter::once(c).nfkc());
        } else {
            widened.push(c);
        }
    }
    fold_case(widened.trim())
}

/// Canonical caseless form (Unicode §3.13 D145): NFD, full case folding, then NFC, so
/// that precomposed and decomposed spellings compare equal. Used for attributes whose
/// `caseExact` is false.
pub fn fold_case(s: &str) -> String {
    if s.is_ascii() {
        // Nothing to decompose or compose, and the only case folding is A-Z: the same
        // text for a fraction of the work.
        return s.to_ascii_lowercase();
    }
    let decomposed: String = s.nfd().collect();
    caseless::default_case_fold_str(&decomposed).nfc().collect()
}

/// A fullwidth or halfwidth character, which is mapped to its decomposition (the
/// `<wide>` and `<narrow>` compatibility mappings all live in U+3000 and U+FF00–U+FFEF);
/// every other character is kept as it is (NFKC would also fold ligatures, superscripts
/// and the like, which PRECIS deliberately does not).
fn is_wide_or_narrow(c: char) -> bool {
    let code = u32::from(c);
    code == 0x3000 || (0xFF00..=0xFFEF).contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full path of `username_key` and `fold_case`, without their ASCII shortcut.
    fn slow_key(s: &str) -> String {
        let widened: String = s
            .chars()
            .flat_map(|c| -> Vec<char> {
                if is_wide_or_narrow(c) {
                    std::iter::once(c).nfkc().collect()
                } else {
                    vec![c]
                }
            })
            .collect();
        slow_fold(widened.trim())
    }

    fn slow_fold(s: &str) -> String {
        let decomposed: String = s.nfd().collect();
        caseless::default_case_fold_str(&decomposed).nfc().collect()
    }

    #[test]
    fn the_ascii_shortcut_gives_the_same_key_as_the_full_mapping() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        for s in [
            every_ascii.as_str(),
            " \t Alice.Smith+SCIM@Example.COM \r\n",
            "lg-run-u12345@example.com",
            "\u{b}x\u{c}",
            "",
        ] {
            assert_eq!(username_key(s), slow_key(s), "{s:?}");
            assert_eq!(fold_case(s), slow_fold(s), "{s:?}");
        }
        for b in 0u8..128 {
            let s = format!(" {}A{} ", char::from(b), char::from(b));
            assert_eq!(username_key(&s), slow_key(&s), "{s:?}");
            assert_eq!(fold_case(&s), slow_fold(&s), "{s:?}");
        }
    }

    #[test]
    fn precomposed_uppercase_and_decomposed_spellings_share_one_key() {
        let a = username_key("élodie");
        assert_eq!(a, username_key("ÉLODIE"));
        assert_eq!(a, username_key("e\u{301}lodie"));
        assert_eq!(a, username_key("E\u{301}LODIE"));
        assert_eq!(a, "élodie");
    }

    #[test]
    fn fullwidth_letters_map_to_ordinary_ones() {
        assert_eq!(
            username_key("ｅｌｏｄｉｅ@ＥＸＡＭＰＬＥ.io"),
            "elodie@example.io"
        );
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(username_key("  Ada@Example.io\u{3000}"), "ada@example.io");
    }

    #[test]
    fn compatibility_characters_outside_width_forms_are_kept() {
        // NFKC would turn the superscript into "2"; PRECIS width mapping does not.
        assert_eq!(username_key("x\u{B2}"), "x\u{B2}");
    }

    #[test]
    fn case_folding_is_full() {
        assert_eq!(fold_case("Straße"), fold_case("STRASSE"));
    }
}
