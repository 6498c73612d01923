//! Which characters the certificate can print. The PDF draws every roster text in DejaVu Sans
//! (regular and bold); a character neither face has a glyph for would print as an empty box, or
//! fail the render after the signature was already given. Roster import and signing ask here
//! first, so such a value is refused with a precise message before any certificate exists.

use super::pdf::fonts::faces;

/// The first character of `text` the certificate font cannot draw, if any: one that either face
/// lacks. The faces are the renderer's own, parsed once per process, so what is checked here is
/// what is drawn. White space is always printable (the renderer folds it).
pub fn unprintable(text: &str) -> Option<char> {
    let faces = faces().expect("the bundled DejaVu fonts parse");
    text.chars()
        .find(|&c| !(c.is_whitespace() || faces.regular.draws(c) && faces.bold.draws(c)))
}

/// The roster's message for a value with such a character, naming it and its code point.
pub fn refusal(c: char) -> String {
    format!(
        "karakter {c:?} (U+{:04X}) tidak dapat dicetak pada sertifikat karena fon sertifikat tidak memilikinya",
        c as u32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_greek_and_cyrillic_print_and_cjk_and_emoji_do_not() {
        assert_eq!(
            unprintable("Prof. Dr. Ir. H. Andi Ṣalāḥ, S.H., M.Si."),
            None
        );
        assert_eq!(unprintable("Ἀλέξανδρος Пётр O’Neil-Zürich"), None);
        assert_eq!(unprintable("Andi 山田"), Some('山'));
        assert_eq!(unprintable("Andi 🙂"), Some('🙂'));
        assert!(refusal('山').contains("U+5C71"));
    }
}
