//! The one check for free text a person typed: names, address lines, cities, reasons, carriers, tracking numbers,
//! provider references, product names in English and Arabic.
//!
//! Text is stored, shown to staff and customers, printed on labels and sent to carriers and payment providers, so
//! what is refused is what could make it lie about itself or break something downstream:
//!
//! - control characters (C0 including NUL, DEL, C1): PostgreSQL cannot store NUL in `text` or `jsonb`, and ANSI
//!   escapes rewrite a terminal that shows a log line;
//! - bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) and every other format character
//!   (general category Cf: zero-width space, BOM, soft hyphen, tag characters...), which make a string display
//!   as something other than what it is ("Trojan Source"). ZWNJ and ZWJ (U+200C/U+200D) stay: Persian, Urdu and
//!   Arabic typing and emoji sequences need them;
//! - line and paragraph separators (U+2028/U+2029): no field is multi-line.
//!
//! What is kept is normalised to NFC, so the same name typed on two keyboards is stored, compared and counted
//! the same, and trimmed of white space at both ends. Length is counted in characters (Arabic and English alike),
//! on what the client sent and on what is stored, so the documented cap is the enforced one either way.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::values::Invalid;

/// Zero-width non-joiner and joiner: format characters that written languages need.
const JOINERS: [char; 2] = ['\u{200C}', '\u{200D}'];

/// Why a character is refused, for the client's error message; `None` for an acceptable one.
pub fn refusal(c: char) -> Option<&'static str> {
    if c.is_control() {
        return Some("a control character");
    }
    if matches!(c, '\u{2028}' | '\u{2029}') {
        return Some("a line or paragraph separator");
    }
    if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}') {
        return Some("a bidirectional control");
    }
    if c.general_category() == GeneralCategory::Format && !JOINERS.contains(&c) {
        return Some("an invisible format character");
    }
    None
}

/// Checks and normalises one free-text value: at most `max_chars` characters, none of the refused ones, not blank.
/// Returns the NFC form, trimmed.
pub fn text(raw: &str, max_chars: usize) -> Result<String, Invalid> {
    // Counted before anything else (and before trimming, as JSON Schema's maxLength counts), so a huge value is
    // refused without being normalised.
    if raw.chars().count() > max_chars {
        return Err(Invalid(format!("must be at most {max_chars} characters")));
    }
    if let Some((at, c, what)) = raw
        .chars()
        .enumerate()
        .find_map(|(i, c)| refusal(c).map(|what| (i, c, what)))
    {
        return Err(Invalid(format!(
            "must not contain {what} (U+{:04X} at character {at})",
            u32::from(c)
        )));
    }
    let normal: String = raw.trim().nfc().collect();
    if normal.is_empty() {
        return Err(Invalid("must not be empty".into()));
    }
    // NFC can lengthen a few characters (U+0958 becomes two); what is stored keeps within the cap too.
    if normal.chars().count() > max_chars {
        return Err(Invalid(format!("must be at most {max_chars} characters")));
    }
    Ok(normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> String {
        text(s, 100).expect_err(s).0
    }

    #[test]
    fn plain_arabic_and_english_text_is_kept() {
        assert_eq!(text("  فاطمة الكندري ", 100).unwrap(), "فاطمة الكندري");
        assert_eq!(text("Block 3, Street 12", 100).unwrap(), "Block 3, Street 12");
    }

    #[test]
    fn length_is_counted_in_characters_and_capped() {
        let name = "فاطمة الكندري";
        assert_eq!(text(name, 13).unwrap(), name);
        assert!(refused(&"x".repeat(101)).contains("at most 100"));
        assert!(text(&"ب".repeat(100), 100).is_ok());
    }

    #[test]
    fn blank_text_is_refused() {
        assert_eq!(refused(""), "must not be empty");
        assert_eq!(refused("   "), "must not be empty");
    }

    #[test]
    fn c0_controls_nul_del_and_c1_controls_are_refused() {
        for c in [
            '\0', '\u{1}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{80}', '\u{9b}', '\u{9f}',
        ] {
            let err = refused(&format!("oops{c}x"));
            assert!(err.contains("control character"), "{c:?}: {err}");
        }
    }

    #[test]
    fn bidi_controls_are_refused() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
            '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            let err = refused(&format!("abc{c}def"));
            assert!(err.contains("bidirectional"), "{c:?}: {err}");
        }
    }

    #[test]
    fn other_format_characters_are_refused_but_joiners_are_kept() {
        for c in ['\u{200B}', '\u{FEFF}', '\u{00AD}', '\u{2060}', '\u{E0041}', '\u{0600}'] {
            let err = refused(&format!("abc{c}def"));
            assert!(err.contains("format character"), "{c:?}: {err}");
        }
        let persian = "می\u{200C}خواهم";
        assert_eq!(text(persian, 100).unwrap(), persian);
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(text(family, 100).unwrap(), family);
    }

    #[test]
    fn line_and_paragraph_separators_are_refused() {
        assert!(refused("a\u{2028}b").contains("separator"));
        assert!(refused("a\u{2029}b").contains("separator"));
    }

    #[test]
    fn the_refusal_names_the_character_and_where_it_is() {
        assert_eq!(
            refused("oops\u{202E}"),
            "must not contain a bidirectional control (U+202E at character 4)"
        );
    }

    #[test]
    fn text_is_stored_in_nfc() {
        // "é" as e + combining acute becomes the one precomposed character.
        assert_eq!(text("Cafe\u{301}", 100).unwrap(), "Caf\u{e9}");
        assert_eq!(text("Cafe\u{301}", 100).unwrap().chars().count(), 4);
    }

    #[test]
    fn the_cap_holds_for_what_is_stored_too() {
        // U+0958 (DEVANAGARI QA) is one character that NFC decomposes into two.
        assert_eq!("\u{958}".nfc().count(), 2);
        assert!(text(&"\u{958}".repeat(3), 5).is_err());
        assert!(text(&"\u{958}".repeat(2), 4).is_ok());
    }
}
