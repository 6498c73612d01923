//! Which characters the certificate can print. The PDF draws every roster text in DejaVu Sans
//! (regular and bold); a character neither face has a glyph for would print as an empty box, or
//! fail the render after the signature was already given. Roster import and signing ask here
//! first, so such a value is refused with a precise message before any certificate exists.

use std::collections::HashSet;
use std::sync::OnceLock;

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Code points both faces map to a glyph, read from their `cmap` tables once per process.
fn printable() -> &'static HashSet<u32> {
    static SET: OnceLock<HashSet<u32>> = OnceLock::new();
    SET.get_or_init(|| {
        let covered = |bytes: &[u8]| {
            let face = ttf_parser::Face::parse(bytes, 0).expect("the bundled DejaVu font parses");
            let mut set = HashSet::new();
            if let Some(cmap) = face.tables().cmap {
                for table in cmap.subtables {
                    if table.is_unicode() {
                        table.codepoints(|c| {
                            if table.glyph_index(c).is_some_and(|g| g.0 != 0) {
                                set.insert(c);
                            }
                        });
                    }
                }
            }
            set
        };
        let bold = covered(BOLD);
        covered(REGULAR)
            .into_iter()
            .filter(|c| bold.contains(c))
            .collect()
    })
}

/// The first character of `text` the certificate font cannot draw, if any. White space is
/// always printable (the renderer folds it).
pub fn unprintable(text: &str) -> Option<char> {
    let set = printable();
    text.chars()
        .find(|c| !c.is_whitespace() && !set.contains(&(*c as u32)))
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
