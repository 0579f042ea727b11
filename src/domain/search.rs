//! Search keys: the one normaliser for what staff type to find an order (a name in Arabic or English, a phone in
//! any form, part of an order number, a customer id), used when an order is written and when a query is parsed, so
//! both sides always agree.
//!
//! `fold` (names and words): NFKC; then Arabic letter variants folded (آ أ إ ٱ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي,
//! Persian ی → ي and ک → ك), tatweel, harakat and Quranic marks and zero-width characters removed; every decimal
//! digit made ASCII; Latin case-folded and its accents removed; anything that is not a letter or a digit (white
//! space, punctuation, symbols) a word break; words joined by single spaces.
//!
//! Phones are compared by their national number (`national_numbers`): the digits without an international prefix
//! (`+`, `00`), a calling code or a trunk `0`.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::values::Invalid;

/// The calling codes of the countries Orderly ships to and of their neighbours, longest first where one is a prefix
/// of another (none is today).
const CALLING_CODES: [(&str, &str); 11] = [
    ("AE", "971"),
    ("SA", "966"),
    ("KW", "965"),
    ("BH", "973"),
    ("OM", "968"),
    ("QA", "974"),
    ("EG", "20"),
    ("JO", "962"),
    ("IQ", "964"),
    ("LY", "218"),
    ("TN", "216"),
];

/// The fewest digits a phone query needs, and the fewest characters of an order-number fragment.
pub const MIN_PHONE_DIGITS: usize = 6;
pub const MIN_NUMBER_FRAGMENT: usize = 4;
/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// The calling code of `country` (ISO 3166-1 alpha-2), if Orderly knows it.
pub fn calling_code(country: &str) -> Option<&'static str> {
    CALLING_CODES.iter().find(|(c, _)| *c == country).map(|(_, code)| *code)
}

/// The value of any Unicode decimal digit (general category Nd): ASCII, Arabic-Indic, Persian and the rest. Nd
/// digits come in runs of ten, zero first, so the value is the distance from the start of the run, modulo ten.
pub fn digit_value(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return c.to_digit(10);
    }
    if c.general_category() != GeneralCategory::DecimalNumber {
        return None;
    }
    let mut start = u32::from(c);
    while let Some(prev) = start.checked_sub(1).and_then(char::from_u32) {
        if prev.general_category() != GeneralCategory::DecimalNumber {
            break;
        }
        start -= 1;
    }
    Some((u32::from(c) - start) % 10)
}

/// The Arabic (and Persian) letter a variant folds to, if it is one.
fn arabic_base(c: char) -> Option<char> {
    Some(match c {
        'آ' | 'أ' | 'إ' | 'ٱ' => 'ا',
        'ى' | 'ئ' | 'ی' => 'ي',
        'ة' => 'ه',
        'ؤ' => 'و',
        'ک' => 'ك',
        _ => return None,
    })
}

/// Characters that disappear: tatweel, Arabic harakat and Quranic marks, the superscript alef, zero-width and other
/// invisible format characters (after NFKC, marks that are left belong to the letter before them).
fn vanishes(c: char) -> bool {
    matches!(c, '\u{0640}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06ED}')
        || matches!(
            c.general_category(),
            GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark | GeneralCategory::Format
        )
}

/// The normalised form of `text`: lower-case words of letters and ASCII digits, separated by single spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    // NFKC first (compatibility forms such as presentation forms and full-width digits), then canonical
    // decomposition, so that accents and hamza above or below come apart from their letters and vanish.
    let letters: String = text.nfkc().map(|c| arabic_base(c).unwrap_or(c)).collect();
    for c in letters.nfd() {
        if vanishes(c) {
            continue;
        }
        let folded: Vec<char> = if let Some(d) = digit_value(c) {
            char::from_digit(d, 10).into_iter().collect()
        } else if c.is_alphabetic() {
            c.to_lowercase().collect()
        } else {
            pending_space = !out.is_empty();
            continue;
        };
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(folded);
    }
    out
}

/// The ASCII digits of a phone, or `None` when anything but digits and phone punctuation (`+ - . ( )` and white
/// space) is in it.
fn phone_digits(text: &str) -> Option<(bool, String)> {
    let trimmed = text.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match digit_value(c) {
            Some(d) => digits.extend(char::from_digit(d, 10)),
            None if c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')') => {}
            None => return None,
        }
    }
    Some((plus, digits))
}

/// The national number of a stored phone: its digits without `+` or `00` and the calling code of the ship
/// country (or of any country Orderly knows), or without a trunk `0` when it was written nationally.
pub fn stored_national_number(phone: &str, country: &str) -> Option<String> {
    let (plus, digits) = phone_digits(phone)?;
    let international = if plus {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    let national = match international {
        Some(full) => {
            let code = calling_code(country).filter(|code| full.starts_with(code)).or_else(|| {
                CALLING_CODES
                    .iter()
                    .map(|(_, code)| *code)
                    .find(|code| full.starts_with(code))
            });
            code.map_or(full, |code| &full[code.len()..])
        }
        None => digits.strip_prefix('0').unwrap_or(&digits),
    };
    (!national.is_empty()).then(|| national.to_owned())
}

/// Every national number a phone query may mean: its digits as typed, without a trunk `0`, and without a leading
/// calling code (with or without `+`/`00`) when at least `MIN_PHONE_DIGITS` digits remain. `None` when the query is
/// not a phone (other characters, or fewer than `MIN_PHONE_DIGITS` digits).
pub fn national_numbers(query: &str) -> Option<Vec<String>> {
    let (_, digits) = phone_digits(query)?;
    if digits.len() < MIN_PHONE_DIGITS {
        return None;
    }
    let mut out = vec![digits.clone()];
    let mut push = |n: &str| {
        if n.len() >= MIN_PHONE_DIGITS && !out.iter().any(|o| o == n) {
            out.push(n.to_owned());
        }
    };
    let international = digits.strip_prefix("00").unwrap_or(&digits);
    for (_, code) in CALLING_CODES {
        if let Some(rest) = international.strip_prefix(code) {
            push(rest);
        }
    }
    if let Some(rest) = digits.strip_prefix('0') {
        push(rest);
    }
    Some(out)
}

/// What an order is found by, kept beside it.
///
/// - `name`: the folded ship-to name with a space in front of every word, so that "some word starts with `w`" is
///   the substring ` w` (SQLite's FTS5 trigram table matches it so).
/// - `phone`: the national number of the ship-to phone.
/// - `tokens`: exact-match tokens an inverted index can intersect (PostgreSQL's GIN on `text[]`): `n:` and every
///   prefix of every word of the name, and `#:` and every four characters in a row of the lower-case order
///   numbers (Orderly's and a legacy one). A query's tokens are all among an order's exactly when each query word
///   starts a word of its name, or, for a number fragment (four characters or more), when every four characters of
///   it occur in one of its numbers (which the fragment itself is then checked against).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchKeys {
    pub name: String,
    pub phone: Option<String>,
    pub tokens: Vec<String>,
}

/// The prefix of name tokens and of number tokens.
const NAME_TOKEN: &str = "n:";
const NUMBER_TOKEN: &str = "#:";

impl SearchKeys {
    /// The keys of an order: its ship-to name and phone, and its numbers.
    pub fn of(order: &super::order::Order) -> SearchKeys {
        let s = &order.ship_to;
        SearchKeys::new(
            &s.name,
            s.phone.as_deref(),
            s.country.as_str(),
            &order.number,
            order.legacy.as_ref().map(|l| l.order_no.as_str()),
        )
    }

    /// From the parts of an order (`country`: ISO 3166-1 alpha-2, for a phone written nationally).
    pub fn new(
        name: &str,
        phone: Option<&str>,
        country: &str,
        number: &str,
        legacy_number: Option<&str>,
    ) -> SearchKeys {
        let folded = fold(name);
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        let mut tokens: Vec<String> = Vec::new();
        for word in &words {
            let mut prefix = String::from(NAME_TOKEN);
            for c in word.chars() {
                prefix.push(c);
                tokens.push(prefix.clone());
            }
        }
        for n in std::iter::once(number).chain(legacy_number) {
            tokens.extend(number_grams(&number_fragment(n)));
        }
        tokens.sort_unstable();
        tokens.dedup();
        SearchKeys {
            name: words.iter().map(|w| format!(" {w}")).collect(),
            phone: phone.and_then(|p| stored_national_number(p, country)),
            tokens,
        }
    }
}

/// An order number or a fragment of one as it is compared: lower case, every digit ASCII.
fn number_fragment(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| digit_value(c).and_then(|d| char::from_digit(d, 10)).unwrap_or(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The number tokens of a lower-case number or fragment: `#:` and each run of four characters.
fn number_grams(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(MIN_NUMBER_FRAGMENT)
        .map(|w| format!("{NUMBER_TOKEN}{}", w.iter().collect::<String>()))
        .collect()
}

/// The pattern that finds a word starting with `word` in a stored `SearchKeys::name` (words are letters and digits
/// only, so nothing in them is special to LIKE).
pub fn word_prefix_pattern(word: &str) -> String {
    format!("% {word}%")
}

/// The LIKE pattern of an order-number fragment, its `%`, `_` and `\` escaped (escape character `\`).
pub fn fragment_pattern(fragment: &str) -> String {
    let mut out = String::with_capacity(fragment.len() + 2);
    out.push('%');
    for c in fragment.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A parsed `q`: what each kind of key would have to be for an order to match. An order matches when any kind does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// Folded words, each a prefix of some word of the ship-to name (empty: the query has no letter).
    pub name_words: Vec<String>,
    /// National numbers the ship-to phone may equal (empty: not a phone).
    pub phones: Vec<String>,
    /// A fragment of an order number, Orderly's or a legacy one, lower case with ASCII digits.
    pub number_fragment: Option<String>,
    /// A customer id, lower case, compared whole.
    pub customer_id: String,
}

impl SearchQuery {
    pub fn parse(raw: &str) -> Result<SearchQuery, Invalid> {
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(Invalid(format!("must be at most {MAX_QUERY_CHARS} characters")));
        }
        if let Some(what) = raw.chars().find_map(super::text::refusal) {
            return Err(Invalid(format!("must not contain {what}")));
        }
        let folded = fold(raw);
        if folded.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
            return Err(Invalid("must have at least 2 letters or digits".to_owned()));
        }
        let name_words = if folded.chars().any(char::is_alphabetic) {
            folded.split(' ').map(str::to_owned).collect()
        } else {
            Vec::new()
        };
        let trimmed = raw.trim();
        let number_fragment = (!trimmed.chars().any(char::is_whitespace))
            .then(|| number_fragment(trimmed))
            .filter(|f| f.chars().count() >= MIN_NUMBER_FRAGMENT);
        Ok(SearchQuery {
            name_words,
            phones: national_numbers(raw).unwrap_or_default(),
            number_fragment,
            customer_id: trimmed.to_lowercase(),
        })
    }

    /// The tokens an order's keys hold when its name matches (empty: the query has no word).
    pub fn name_tokens(&self) -> Vec<String> {
        self.name_words.iter().map(|w| format!("{NAME_TOKEN}{w}")).collect()
    }

    /// The tokens an order's keys hold when one of its numbers may contain the fragment (empty: no fragment).
    pub fn number_tokens(&self) -> Vec<String> {
        let mut grams = self.number_fragment.as_deref().map(number_grams).unwrap_or_default();
        grams.sort_unstable();
        grams.dedup();
        grams
    }

    /// Whether a folded name has, for every query word, a word starting with it.
    pub fn name_matches(&self, folded_name: &str) -> bool {
        !self.name_words.is_empty()
            && self
                .name_words
                .iter()
                .all(|w| folded_name.split(' ').any(|word| word.starts_with(w.as_str())))
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
