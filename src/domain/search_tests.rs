//! Every rule of the search normaliser, and the query parser.

use super::*;

#[test]
fn arabic_letter_variants_fold_to_their_base_letter() {
    assert_eq!(fold("آمنة"), "امنه");
    assert_eq!(fold("أحمد"), "احمد");
    assert_eq!(fold("إبراهيم"), "ابراهيم");
    assert_eq!(fold("ٱلله"), "الله");
    assert_eq!(fold("مصطفى"), "مصطفي");
    assert_eq!(fold("فاطمة"), "فاطمه");
    assert_eq!(fold("مؤمن"), "مومن");
    assert_eq!(fold("هانئ"), "هاني");
}

#[test]
fn persian_forms_fold_to_the_arabic_letters() {
    assert_eq!(fold("علی"), "علي");
    assert_eq!(fold("کریم"), "كريم");
}

#[test]
fn tatweel_harakat_quranic_marks_and_zero_width_characters_vanish() {
    assert_eq!(fold("أَحْمَـــد"), "احمد");
    assert_eq!(fold("مُحَمَّدٌ"), "محمد");
    assert_eq!(fold("رَحْمٰن"), "رحمن", "superscript alef U+0670");
    assert_eq!(fold("قُرْآنۖ"), "قران", "Quranic annotation U+06D6");
    assert_eq!(fold("ف\u{200B}اطمة\u{200C}"), "فاطمه");
}

#[test]
fn every_decimal_digit_becomes_ascii() {
    assert_eq!(fold("٠٥٠١٢٣٤٥٦٧"), "0501234567");
    assert_eq!(fold("۰۹۸۷"), "0987");
    assert_eq!(fold("०१२"), "012", "Devanagari");
    assert_eq!(fold("１２３"), "123", "full-width, through NFKC");
    assert_eq!(digit_value('٧'), Some(7));
    assert_eq!(digit_value('a'), None);
}

#[test]
fn latin_is_case_folded_and_loses_its_accents() {
    assert_eq!(fold("José ÉLISE Çelik"), "jose elise celik");
    assert_eq!(fold("Ａｈｍｅｄ"), "ahmed", "full-width letters, through NFKC");
    assert_eq!(fold("ﬁras"), "firas", "ligature, through NFKC");
}

#[test]
fn white_space_and_punctuation_break_words_once() {
    assert_eq!(fold("  Fatima   Al-Kandari, "), "fatima al kandari");
    assert_eq!(fold("O'Brien/Smith"), "o brien smith");
    assert_eq!(fold("احمد\u{00A0}عبدالله"), "احمد عبدالله");
    assert_eq!(fold("!!!"), "");
}

#[test]
fn a_name_matches_when_every_word_is_a_prefix_of_one_of_its_words() {
    let q = SearchQuery::parse("احمد").unwrap();
    for name in ["أحمد", "أَحْمَـــد", "احمد عبدالله", "محمد أحمدي"] {
        assert!(q.name_matches(&fold(name)), "{name}");
    }
    assert!(!q.name_matches(&fold("محمد")));
    let q = SearchQuery::parse("fatima al").unwrap();
    assert!(q.name_matches(&fold("Fatima Al-Kandari")));
    assert!(!q.name_matches(&fold("Fatima Kandari")));
    assert!(
        q.name_matches(&fold("Alia Fatima")),
        "words in any order, each a prefix"
    );
    assert!(
        SearchQuery::parse("kandari fatima")
            .unwrap()
            .name_matches(&fold("Fatima Al-Kandari"))
    );
}

#[test]
fn a_stored_phone_is_kept_as_its_national_number() {
    assert_eq!(
        stored_national_number("+96550000000", "KW").as_deref(),
        Some("50000000")
    );
    assert_eq!(
        stored_national_number("+201001234567", "EG").as_deref(),
        Some("1001234567")
    );
    assert_eq!(
        stored_national_number("0096550000000", "KW").as_deref(),
        Some("50000000")
    );
    assert_eq!(
        stored_national_number("01001234567", "EG").as_deref(),
        Some("1001234567")
    );
    assert_eq!(
        stored_national_number("+971501234567", "KW").as_deref(),
        Some("501234567"),
        "another country's code"
    );
    assert_eq!(stored_national_number("not a phone", "KW"), None);
}

#[test]
fn a_phone_query_in_any_form_reaches_the_national_number() {
    for q in [
        "+965 5000 0000",
        "0096550000000",
        "٥٠٠٠٠٠٠٠",
        "96550000000",
        "5000-0000",
    ] {
        let numbers = national_numbers(q).unwrap();
        assert!(numbers.contains(&"50000000".to_owned()), "{q}: {numbers:?}");
    }
    let egypt = national_numbers("٠١٠٠١٢٣٤٥٦٧").unwrap();
    assert!(egypt.contains(&"1001234567".to_owned()), "{egypt:?}");
    // A Kuwaiti number that starts like Kuwait's calling code keeps its digits.
    assert!(national_numbers("96551234").unwrap().contains(&"96551234".to_owned()));
    assert_eq!(national_numbers("12345"), None, "fewer than 6 digits");
    assert_eq!(national_numbers("ahmed 123456"), None, "not only a phone");
}

#[test]
fn number_fragments_are_four_characters_or_more_without_spaces() {
    assert_eq!(
        SearchQuery::parse("0001234").unwrap().number_fragment.as_deref(),
        Some("0001234")
    );
    assert_eq!(
        SearchQuery::parse("DXB-2019").unwrap().number_fragment.as_deref(),
        Some("dxb-2019")
    );
    assert_eq!(
        SearchQuery::parse("kw-٠٠١").unwrap().number_fragment.as_deref(),
        Some("kw-001")
    );
    assert_eq!(SearchQuery::parse("kw1").unwrap().number_fragment, None);
    assert_eq!(SearchQuery::parse("kw 0001").unwrap().number_fragment, None);
}

#[test]
fn customer_ids_compare_whole_and_case_insensitively() {
    assert_eq!(SearchQuery::parse(" Cust-42 ").unwrap().customer_id, "cust-42");
}

#[test]
fn a_query_of_stop_characters_or_under_two_letters_is_refused() {
    for bad in ["", "   ", "!!", "-- ..", "a", "ـ", "أَ", "x\u{0000}y"] {
        assert!(SearchQuery::parse(bad).is_err(), "{bad:?}");
    }
    assert!(SearchQuery::parse(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
    assert!(SearchQuery::parse("ab").is_ok());
    assert!(SearchQuery::parse("42").is_ok());
}

#[test]
fn an_order_keeps_its_name_as_words_its_phone_national_and_tokens_for_both_and_its_numbers() {
    let keys = SearchKeys::new("  أَحْمَد Al-K ", Some("+96550000000"), "KW", "KW-0012", Some("DXB-2019"));
    assert_eq!(keys.name, " احمد al k");
    assert_eq!(keys.phone.as_deref(), Some("50000000"));
    let tokens: Vec<&str> = keys.tokens.iter().map(String::as_str).collect();
    for t in [
        "n:ا",
        "n:اح",
        "n:احم",
        "n:احمد",
        "n:a",
        "n:al",
        "n:k",
        "#:kw-0",
        "#:-001",
        "#:0012",
        "#:dxb-",
        "#:2019",
    ] {
        assert!(tokens.contains(&t), "{t} in {tokens:?}");
    }
    assert!(!tokens.contains(&"n:احمدا") && !tokens.contains(&"#:kw-"), "{tokens:?}");
}

#[test]
fn a_query_matches_exactly_when_its_tokens_are_among_the_orders() {
    let keys = SearchKeys::new("Fatima Al-Kandari", None, "KW", "KW-000001234", None);
    let has_all = |tokens: Vec<String>| !tokens.is_empty() && tokens.iter().all(|t| keys.tokens.contains(t));
    let q = SearchQuery::parse("fatima kand").unwrap();
    assert!(has_all(q.name_tokens()) && q.name_matches(&keys.name));
    let q = SearchQuery::parse("fatimah").unwrap();
    assert!(!has_all(q.name_tokens()) && !q.name_matches(&keys.name));
    let q = SearchQuery::parse("0001234").unwrap();
    assert!(has_all(q.number_tokens()));
    let q = SearchQuery::parse("1234000").unwrap();
    assert!(!has_all(q.number_tokens()));
}

#[test]
fn fragments_are_escaped_for_like() {
    assert_eq!(fragment_pattern("dxb-2019"), "%dxb-2019%");
    assert_eq!(fragment_pattern("50%_\\"), "%50\\%\\_\\\\%");
    assert_eq!(word_prefix_pattern("احمد"), "% احمد%");
}
