//! The embedded DejaVu faces: character to glyph lookups, advance widths, and the PDF font
//! objects, prepared once per process.
//!
//! Building a font subset per document (walking the glyph table, writing a new font file,
//! deflating 90 KB) used to be a quarter of a certificate's render time. Instead each face is
//! cut down once to a fixed set of characters, [`PREPARED_RANGES`], which covers Indonesian
//! text: names, agencies, places and legal prose. Its deflated font program, `/W` widths and
//! `/ToUnicode` map are then copied into every certificate byte for byte. A certificate that
//! shows a character outside that set (a Greek letter in a name, say) gets a font built for it
//! alone: the prepared characters plus its own, the slower path, but correct.
//!
//! Glyph ids are never renumbered, so the content stream encodes text the same way whichever
//! font program ends up embedded.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::RangeInclusive;

use super::{deflate, Fnv, PdfError};

/// Characters every prepared font covers: Basic Latin, Latin-1 (é, ü, ©, «»), Latin
/// Extended-A (names from other languages), General Punctuation (‘’“” – — … • and the
/// special spaces the line breaker knows) and a few symbols seen in official letters.
const PREPARED_RANGES: [RangeInclusive<u32>; 7] = [
    0x0020..=0x007E,
    0x00A0..=0x00FF,
    0x0100..=0x017F,
    0x2000..=0x206F,
    0x20AC..=0x20AC, // €
    0x2116..=0x2116, // №
    0x2122..=0x2122, // ™
];

/// zlib level of the prepared font programs: compressed once per process, so the smallest.
const PREPARED_DEFLATE_LEVEL: u32 = 9;

/// One embedded font face: its metrics, parsed once per process, and its prepared PDF objects.
pub(super) struct FontFace {
    /// Resource name in the page's `/Font` dictionary; fixed so output is deterministic.
    pub(super) resource: &'static str,
    /// PostScript name, written as `/BaseFont` behind a subset tag.
    postscript_name: &'static str,
    program: &'static [u8],
    /// Glyph of every code point of the Basic Multilingual Plane; 0 where the font has none.
    bmp_glyphs: Box<[u16]>,
    /// Glyphs of the code points beyond the BMP the font covers.
    astral_glyphs: BTreeMap<u32, u16>,
    /// Advance width of every glyph in thousandths of an em, truncated like `/W` states it.
    advances: Box<[u16]>,
    descriptor: Descriptor,
    /// Which glyphs the prepared font program contains (indexed by glyph id).
    prepared_glyphs: Box<[bool]>,
    prepared: EmbeddedFont,
}

/// The `/FontDescriptor` figures, in thousandths of an em.
struct Descriptor {
    bbox: [i32; 4],
    ascent: i32,
    descent: i32,
    cap_height: i32,
    stem_v: i32,
}

/// What a document embeds for one face: every piece except the object numbers.
#[derive(Clone, Default)]
pub(super) struct EmbeddedFont {
    /// `/BaseFont`: the subset tag and the PostScript name.
    pub(super) base_font: String,
    /// The `/W` array.
    pub(super) widths: String,
    /// `/FontDescriptor` entries other than `/FontName` and `/FontFile2`.
    pub(super) descriptor: String,
    /// The deflated font program and its length before deflating (`/Length1`).
    pub(super) program: Vec<u8>,
    pub(super) program_length: usize,
    /// The deflated `/ToUnicode` CMap.
    pub(super) to_unicode: Vec<u8>,
}

impl FontFace {
    /// Parses the font and prepares its PDF objects. `None` if the program is not a TrueType
    /// font this module can read (a broken build, not a data problem).
    pub(super) fn load(
        resource: &'static str,
        postscript_name: &'static str,
        program: &'static [u8],
    ) -> Option<Self> {
        let tables = read_table_directory(program)?;
        let table = |tag: &[u8; 4]| tables.iter().find(|(t, _)| t == tag).map(|(_, data)| *data);
        let head = table(b"head")?;
        let hhea = table(b"hhea")?;
        let units_per_em = read_u16(head, 18)?;
        if units_per_em == 0 {
            return None;
        }
        let num_glyphs = read_u16(table(b"maxp")?, 4)?;
        let metrics = usize::from(read_u16(hhea, 34)?);
        let hmtx = table(b"hmtx")?;
        let advances = (0..usize::from(num_glyphs))
            .map(|gid| {
                let width = read_u16(hmtx, 4 * gid.min(metrics.checked_sub(1)?))?;
                Some((f32::from(width) * 1000.0 / f32::from(units_per_em)) as u16)
            })
            .collect::<Option<Box<[u16]>>>()?;
        let (bmp_glyphs, astral_glyphs) = read_cmap(table(b"cmap")?, num_glyphs)?;
        if bmp_glyphs.iter().all(|&gid| gid == 0) {
            return None;
        }

        let scale = |v: i16| (f32::from(v) * 1000.0 / f32::from(units_per_em)).round() as i32;
        let signed = |data: &[u8], at| read_u16(data, at).map(|v| v as i16);
        let ascent = scale(signed(hhea, 4)?);
        let os2 = table(b"OS/2");
        let weight = os2.and_then(|os2| read_u16(os2, 4)).unwrap_or(400);
        let cap_height = os2
            .filter(|os2| read_u16(os2, 0).is_some_and(|version| version >= 2))
            .and_then(|os2| signed(os2, 88))
            .map_or(ascent, scale);
        let descriptor = Descriptor {
            bbox: [
                scale(signed(head, 36)?),
                scale(signed(head, 38)?),
                scale(signed(head, 40)?),
                scale(signed(head, 42)?),
            ],
            ascent,
            descent: scale(signed(hhea, 6)?),
            cap_height,
            // The usual estimate from the weight class: 88 for regular, 166 for bold.
            stem_v: ((f32::from(weight) / 65.0).powi(2) + 50.0).round() as i32,
        };

        let mut face = Self {
            resource,
            postscript_name,
            program,
            bmp_glyphs,
            astral_glyphs,
            advances,
            descriptor,
            prepared_glyphs: Box::default(),
            prepared: EmbeddedFont::default(),
        };
        let prepared_chars: BTreeSet<char> = PREPARED_RANGES
            .iter()
            .flat_map(|range| range.clone().filter_map(char::from_u32))
            .collect();
        face.prepared = face.embed(&prepared_chars, PREPARED_DEFLATE_LEVEL).ok()?;
        let mut prepared_glyphs = vec![false; usize::from(num_glyphs)];
        for &ch in &prepared_chars {
            prepared_glyphs[usize::from(face.glyph(ch))] = true;
        }
        face.prepared_glyphs = prepared_glyphs.into_boxed_slice();
        Some(face)
    }

    /// The glyph that draws `ch`; 0 (`.notdef`) if the font has none.
    pub(super) fn glyph(&self, ch: char) -> u16 {
        let code = u32::from(ch);
        match usize::try_from(code)
            .ok()
            .and_then(|i| self.bmp_glyphs.get(i))
        {
            Some(&gid) => gid,
            None => self.astral_glyphs.get(&code).copied().unwrap_or(0),
        }
    }

    /// Advance width of `ch` in thousandths of an em, as the `/W` array states it. A
    /// character the font lacks is drawn as `.notdef`, which has no `/W` entry and so the
    /// default width 1000.
    pub(super) fn advance(&self, ch: char) -> u32 {
        match self.glyph(ch) {
            0 => 1000,
            gid => u32::from(self.advances[usize::from(gid)]),
        }
    }

    /// Width of `text` set at `size` points.
    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        let thousandths: u32 = text.chars().map(|c| self.advance(c)).sum();
        thousandths as f32 * size / 1000.0
    }

    /// Whether a shown glyph is in the prepared font program. `.notdef` always is.
    pub(super) fn is_prepared(&self, gid: u16) -> bool {
        gid == 0 || self.prepared_glyphs.get(usize::from(gid)) == Some(&true)
    }

    /// The prepared font objects, shared by every document that only shows prepared glyphs.
    pub(super) fn prepared(&self) -> &EmbeddedFont {
        &self.prepared
    }

    /// Font objects for a document that also shows `extra` characters outside the prepared
    /// set. Built per document and deflated at `level`.
    pub(super) fn with_extra(
        &self,
        extra: &BTreeSet<char>,
        level: u32,
    ) -> Result<EmbeddedFont, PdfError> {
        let chars: BTreeSet<char> = PREPARED_RANGES
            .iter()
            .flat_map(|range| range.clone().filter_map(char::from_u32))
            .chain(extra.iter().copied())
            .collect();
        self.embed(&chars, level)
    }

    /// Font objects holding the glyphs of `chars`.
    fn embed(&self, chars: &BTreeSet<char>, level: u32) -> Result<EmbeddedFont, PdfError> {
        let broken = || PdfError::Font(self.postscript_name);
        // Characters with a glyph, in code point order; for a glyph that several characters
        // share (none in DejaVu's Latin ranges), /ToUnicode names the first.
        let mapped: Vec<(char, u16)> = chars
            .iter()
            .map(|&ch| (ch, self.glyph(ch)))
            .filter(|&(_, gid)| gid != 0)
            .collect();
        let mut first_char: BTreeMap<u16, char> = BTreeMap::new();
        for &(ch, gid) in &mapped {
            first_char.entry(gid).or_insert(ch);
        }
        let gids: BTreeSet<u16> = first_char.keys().copied().collect();
        let program = strip_unused_glyphs(self.program, &gids, &mapped).ok_or_else(broken)?;
        let to_unicode = to_unicode_cmap(&first_char);
        let d = &self.descriptor;
        Ok(EmbeddedFont {
            base_font: format!(
                "{}+{}",
                subset_tag(self.postscript_name, &gids),
                self.postscript_name
            ),
            widths: widths_array(&gids, |gid| self.advances[usize::from(gid)]),
            descriptor: format!(
                "/Flags 32/FontBBox[{} {} {} {}]/ItalicAngle 0/Ascent {}/Descent {}\
                 /CapHeight {}/StemV {}",
                d.bbox[0],
                d.bbox[1],
                d.bbox[2],
                d.bbox[3],
                d.ascent,
                d.descent,
                d.cap_height,
                d.stem_v
            ),
            program_length: program.len(),
            program: deflate(&program, level)?,
            to_unicode: deflate(to_unicode.as_bytes(), level)?,
        })
    }
}

/// The six-letter `XXXXXX+` prefix that marks a subset font (ISO 32000-1 §9.6.4),
/// derived from the glyph set so it is stable across runs.
fn subset_tag(name: &str, gids: &BTreeSet<u16>) -> String {
    let mut hash = Fnv::new(0);
    hash.write(name.as_bytes());
    for gid in gids {
        hash.write(&gid.to_be_bytes());
    }
    let mut h = hash.finish();
    (0..6)
        .map(|_| {
            let letter = char::from(b'A' + (h % 26) as u8);
            h /= 26;
            letter
        })
        .collect()
}

/// The `/W` array: runs of consecutive glyph ids as `first [w1 w2 ...]`.
fn widths_array(gids: &BTreeSet<u16>, advance: impl Fn(u16) -> u16) -> String {
    let mut out = String::from("[");
    let mut previous: Option<u16> = None;
    for &gid in gids {
        if previous.is_some_and(|p| p + 1 == gid) {
            out.push(' ');
        } else {
            if previous.is_some() {
                out.push(']');
            }
            let _ = write!(out, "{gid}[");
        }
        let _ = write!(out, "{}", advance(gid));
        previous = Some(gid);
    }
    if previous.is_some() {
        out.push(']');
    }
    out.push(']');
    out
}

/// The `/ToUnicode` CMap (Adobe Technical Note #5411): glyph id (the 2-byte code of
/// Identity-H) to the UTF-16 text it stands for. Runs of consecutive glyphs for consecutive
/// characters become `bfrange` entries; neither the codes nor the text of a range cross a
/// change of the high byte, where the format leaves incrementing undefined.
fn to_unicode_cmap(first_char: &BTreeMap<u16, char>) -> String {
    let mut ranges: Vec<(u16, u16, char)> = Vec::new();
    for (&gid, &ch) in first_char {
        let extends = ranges.last().is_some_and(|&(first, last, start)| {
            last + 1 == gid
                && gid & 0xFF != 0
                && u32::from(start) + u32::from(gid - first) == u32::from(ch)
                && u32::from(ch) & 0xFF != 0
                && u32::from(ch) <= 0xFFFF
        });
        match ranges.last_mut() {
            Some((_, last, _)) if extends => *last = gid,
            _ => ranges.push((gid, gid, ch)),
        }
    }
    let (singles, spans): (Vec<_>, Vec<_>) = ranges.into_iter().partition(|(f, l, _)| f == l);

    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let utf16 = |ch: char| {
        let mut units = [0u16; 2];
        ch.encode_utf16(&mut units)
            .iter()
            .map(|u| format!("{u:04X}"))
            .collect::<String>()
    };
    // At most 100 entries per block, as the CMap format requires.
    for block in spans.chunks(100) {
        let _ = writeln!(out, "{} beginbfrange", block.len());
        for &(first, last, start) in block {
            let _ = writeln!(out, "<{first:04X}> <{last:04X}> <{}>", utf16(start));
        }
        out.push_str("endbfrange\n");
    }
    for block in singles.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", block.len());
        for &(gid, _, ch) in block {
            let _ = writeln!(out, "<{gid:04X}> <{}>", utf16(ch));
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

// ---------------------------------------------------------------------------------------
// TrueType reading

/// The font's Unicode cmap: a dense table for the BMP and a map for the planes above.
/// Prefers the full-repertoire subtable (format 12), else the BMP one (format 4).
#[allow(clippy::type_complexity)]
fn read_cmap(cmap: &[u8], num_glyphs: u16) -> Option<(Box<[u16]>, BTreeMap<u32, u16>)> {
    let subtables = unicode_subtables(cmap)?;
    let best = subtables
        .iter()
        .find(|subtable| read_u16(subtable, 0) == Some(12))
        .or_else(|| subtables.first())?;
    let mut bmp = vec![0u16; 0x1_0000].into_boxed_slice();
    let mut astral = BTreeMap::new();
    read_cmap_subtable(best, |code, gid| {
        if gid >= num_glyphs {
            return;
        }
        match usize::try_from(code).ok().and_then(|i| bmp.get_mut(i)) {
            Some(slot) => *slot = gid,
            None => {
                astral.insert(code, gid);
            }
        }
    })?;
    Some((bmp, astral))
}

/// The cmap subtables that map Unicode and that [`read_cmap_subtable`] reads.
fn unicode_subtables(cmap: &[u8]) -> Option<Vec<&[u8]>> {
    let count = usize::from(read_u16(cmap, 2)?);
    let mut found = Vec::new();
    for i in 0..count {
        let record = cmap.get(4 + 8 * i..12 + 8 * i)?;
        let (platform, encoding) = (read_u16(record, 0)?, read_u16(record, 2)?);
        let subtable = cmap.get(read_u32(record, 4)? as usize..)?;
        if matches!(
            (platform, encoding, read_u16(subtable, 0)?),
            (3, 10, 12) | (0, 4, 12) | (3, 1, 4) | (0, 3, 4)
        ) {
            found.push(subtable);
        }
    }
    Some(found)
}

/// Calls `map` with every (code point, glyph) pair of a format 4 or format 12 subtable.
fn read_cmap_subtable(subtable: &[u8], mut map: impl FnMut(u32, u16)) -> Option<()> {
    if read_u16(subtable, 0)? == 12 {
        let groups = read_u32(subtable, 12)? as usize;
        for g in 0..groups {
            let group = subtable.get(16 + 12 * g..28 + 12 * g)?;
            let (start, end, first_gid) = (
                read_u32(group, 0)?,
                read_u32(group, 4)?,
                read_u32(group, 8)?,
            );
            for code in start..=end.min(0x10_FFFF) {
                let gid = first_gid.checked_add(code - start)?;
                map(code, u16::try_from(gid).ok()?);
            }
        }
        return Some(());
    }
    let segments = usize::from(read_u16(subtable, 6)? / 2);
    let ends = 14;
    let starts = ends + 2 * segments + 2;
    let deltas = starts + 2 * segments;
    let range_offsets = deltas + 2 * segments;
    for s in 0..segments {
        let end = read_u16(subtable, ends + 2 * s)?;
        let start = read_u16(subtable, starts + 2 * s)?;
        let delta = read_u16(subtable, deltas + 2 * s)?;
        let range_offset_at = range_offsets + 2 * s;
        let range_offset = usize::from(read_u16(subtable, range_offset_at)?);
        for code in start..=end {
            // 0xFFFF is the closing segment's marker, not a character.
            if code == 0xFFFF {
                break;
            }
            let gid = if range_offset == 0 {
                code.wrapping_add(delta)
            } else {
                // idRangeOffset counts from its own position into glyphIdArray.
                let at = range_offset_at + range_offset + 2 * usize::from(code - start);
                match read_u16(subtable, at)? {
                    0 => 0,
                    gid => gid.wrapping_add(delta),
                }
            };
            if gid != 0 {
                map(u32::from(code), gid);
            }
        }
    }
    Some(())
}

/// Table tag and data for every table in the font's directory.
fn read_table_directory(program: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    let count = usize::from(read_u16(program, 4)?);
    (0..count)
        .map(|i| {
            let record = program.get(12 + 16 * i..28 + 16 * i)?;
            let tag: [u8; 4] = record[..4].try_into().ok()?;
            let offset = read_u32(record, 8)? as usize;
            let length = read_u32(record, 12)? as usize;
            Some((tag, program.get(offset..offset.checked_add(length)?)?))
        })
        .collect()
}

fn read_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

// ---------------------------------------------------------------------------------------
// TrueType glyph stripping

/// Tables kept in the embedded font. ISO 32000-1 §9.9 requires glyf, head, hhea, hmtx,
/// loca, maxp, cvt, fpgm and prep. cmap, OS/2, name and post are kept because some viewers
/// (pdf.js, Preview) check them, and `name` carries the font's copyright notice. Shaping
/// tables (GSUB, GPOS, kern, ...) are useless for pre-positioned Identity-H text and are
/// dropped.
const KEPT_TABLES: [&[u8; 4]; 14] = [
    b"OS/2", b"cmap", b"cvt ", b"fpgm", b"gasp", b"glyf", b"head", b"hhea", b"hmtx", b"loca",
    b"maxp", b"name", b"post", b"prep",
];

/// Returns a copy of the TrueType `program` in which every glyph outside `used` (and the
/// components of used composite glyphs, and `.notdef`) has empty outline data, and whose
/// cmap only maps the characters in `mapped`.
///
/// Glyph ids are not renumbered, so the content stream's glyph ids and the `/W` widths apply
/// to the stripped program as to the full one. The glyph count stays; loca and the zeroed
/// metrics of the emptied glyphs compress to almost nothing.
fn strip_unused_glyphs(
    program: &[u8],
    used: &BTreeSet<u16>,
    mapped: &[(char, u16)],
) -> Option<Vec<u8>> {
    let tables = read_table_directory(program)?;
    let table = |tag: &[u8; 4]| tables.iter().find(|(t, _)| t == tag).map(|(_, data)| *data);
    let head = table(b"head")?;
    let loca = table(b"loca")?;
    let glyf = table(b"glyf")?;
    let num_glyphs = usize::from(read_u16(table(b"maxp")?, 4)?);
    let long_offsets = read_u16(head, 50)? == 1;

    let offsets = (0..=num_glyphs)
        .map(|i| {
            if long_offsets {
                read_u32(loca, 4 * i).map(|o| o as usize)
            } else {
                read_u16(loca, 2 * i).map(|o| usize::from(o) * 2)
            }
        })
        .collect::<Option<Vec<usize>>>()?;
    let glyph = |gid: usize| glyf.get(offsets[gid]..offsets[gid + 1]);

    let mut keep = vec![false; num_glyphs];
    let mut pending: Vec<u16> = std::iter::once(0).chain(used.iter().copied()).collect();
    while let Some(gid) = pending.pop() {
        let index = usize::from(gid);
        if index < num_glyphs && !keep[index] {
            keep[index] = true;
            pending.extend(composite_components(glyph(index)?)?);
        }
    }

    let mut new_glyf = Vec::new();
    let mut starts = Vec::with_capacity(num_glyphs + 1);
    for (gid, &kept) in keep.iter().enumerate() {
        starts.push(new_glyf.len());
        if kept {
            new_glyf.extend_from_slice(glyph(gid)?);
            new_glyf.resize(new_glyf.len().next_multiple_of(4), 0);
        }
    }
    starts.push(new_glyf.len());
    // Every kept glyph starts at an even offset, so the short loca format (offset / 2 as
    // u16) works whenever the stripped glyf table is below 128 KB.
    let short_loca = new_glyf.len() / 2 <= usize::from(u16::MAX);
    let mut new_loca = Vec::with_capacity(4 * starts.len());
    for start in starts {
        if short_loca {
            new_loca.extend_from_slice(&u16::try_from(start / 2).ok()?.to_be_bytes());
        } else {
            new_loca.extend_from_slice(&u32::try_from(start).ok()?.to_be_bytes());
        }
    }

    let mut out_tables: Vec<([u8; 4], Cow<[u8]>)> = Vec::new();
    for (tag, data) in &tables {
        if !KEPT_TABLES.contains(&tag) {
            continue;
        }
        let data = match tag {
            b"glyf" => Cow::Owned(std::mem::take(&mut new_glyf)),
            b"loca" => Cow::Owned(std::mem::take(&mut new_loca)),
            b"cmap" => Cow::Owned(bmp_cmap(mapped)?),
            b"head" => {
                let mut head = data.to_vec();
                head.get_mut(8..12)?.fill(0); // checkSumAdjustment, recomputed below
                let loca_format = u16::from(!short_loca);
                head.get_mut(50..52)?
                    .copy_from_slice(&loca_format.to_be_bytes());
                Cow::Owned(head)
            }
            b"hmtx" => {
                let metrics = usize::from(read_u16(table(b"hhea")?, 34)?);
                Cow::Owned(clear_unused_metrics(data, metrics, &keep)?)
            }
            // Version 3 drops the 60 KB of glyph names; viewers use /ToUnicode instead.
            b"post" if data.len() >= 32 => {
                let mut post = data[..32].to_vec();
                post[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
                Cow::Owned(post)
            }
            _ => Cow::Borrowed(*data),
        };
        out_tables.push((*tag, data));
    }
    out_tables.sort_by_key(|(tag, _)| *tag);
    write_sfnt(program.get(..4)?, &out_tables)
}

/// A cmap with one Windows Unicode BMP subtable (format 4) for `mapped`. The full font's
/// cmap is 7 KB; with Identity-H text no viewer needs it to find glyphs, but some check
/// that it is there. Characters beyond the BMP are left out.
fn bmp_cmap(mapped: &[(char, u16)]) -> Option<Vec<u8>> {
    // Segments of consecutive characters drawn by consecutive glyphs (one idDelta each),
    // then the closing 0xFFFF segment the format requires.
    let mut segments: Vec<(u16, u16, u16)> = Vec::new(); // (start, end, first glyph)
    for &(ch, gid) in mapped {
        let Ok(code) = u16::try_from(u32::from(ch)) else {
            continue;
        };
        if code == 0xFFFF {
            continue;
        }
        match segments.last_mut() {
            Some((start, end, first)) if *end + 1 == code && *first + (code - *start) == gid => {
                *end = code;
            }
            _ => segments.push((code, code, gid)),
        }
    }
    segments.push((0xFFFF, 0xFFFF, 0));

    let count = u16::try_from(segments.len()).ok()?;
    let entry_selector = 15 - count.leading_zeros() as u16;
    let search_range = 2u16 << entry_selector;
    let length = u16::try_from(16 + 8 * segments.len()).ok()?;
    let mut out = Vec::with_capacity(12 + usize::from(length));
    for field in [0u16, 1, 3, 1] {
        out.extend_from_slice(&field.to_be_bytes()); // version, one subtable: (3, 1)
    }
    out.extend_from_slice(&12u32.to_be_bytes());
    for field in [
        4,
        length,
        0,
        2 * count,
        search_range,
        entry_selector,
        2 * count - search_range,
    ] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    for &(_, end, _) in &segments {
        out.extend_from_slice(&end.to_be_bytes());
    }
    out.extend_from_slice(&0u16.to_be_bytes()); // reservedPad
    for &(start, _, _) in &segments {
        out.extend_from_slice(&start.to_be_bytes());
    }
    for &(start, _, first) in &segments {
        // The closing segment maps 0xFFFF to glyph 0: delta 1 wraps it around.
        let delta = if start == 0xFFFF {
            1
        } else {
            first.wrapping_sub(start)
        };
        out.extend_from_slice(&delta.to_be_bytes());
    }
    for _ in &segments {
        out.extend_from_slice(&0u16.to_be_bytes()); // idRangeOffset
    }
    Some(out)
}

/// Zeroes the horizontal metrics of glyphs that are not kept. Viewers position text with
/// the PDF's `/W` widths; zeroing the metrics only makes hmtx compress to almost nothing.
/// The last full metric record stays, because every glyph after it takes its advance from it.
fn clear_unused_metrics(hmtx: &[u8], metrics: usize, keep: &[bool]) -> Option<Vec<u8>> {
    let mut out = hmtx.to_vec();
    for (gid, &kept) in keep.iter().enumerate() {
        if kept || gid + 1 == metrics {
            continue;
        }
        let range = if gid < metrics {
            4 * gid..4 * gid + 4
        } else {
            4 * metrics + 2 * (gid - metrics)..4 * metrics + 2 * (gid - metrics) + 2
        };
        out.get_mut(range)?.fill(0);
    }
    Some(out)
}

/// Glyph ids referenced by a composite glyph (empty for simple glyphs).
fn composite_components(glyph: &[u8]) -> Option<Vec<u16>> {
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAVE_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const HAVE_XY_SCALE: u16 = 0x0040;
    const HAVE_2X2: u16 = 0x0080;

    if glyph.len() < 10 || read_u16(glyph, 0)? & 0x8000 == 0 {
        return Some(Vec::new());
    }
    let mut components = Vec::new();
    let mut pos = 10;
    loop {
        let flags = read_u16(glyph, pos)?;
        components.push(read_u16(glyph, pos + 2)?);
        pos += 4 + if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        pos += if flags & HAVE_SCALE != 0 {
            2
        } else if flags & HAVE_XY_SCALE != 0 {
            4
        } else if flags & HAVE_2X2 != 0 {
            8
        } else {
            0
        };
        if flags & MORE_COMPONENTS == 0 {
            return Some(components);
        }
    }
}

/// Serialises an sfnt with the given tables (sorted by tag), fixing all checksums.
fn write_sfnt(version: &[u8], tables: &[([u8; 4], Cow<[u8]>)]) -> Option<Vec<u8>> {
    let count = u16::try_from(tables.len()).ok()?;
    let entry_selector = 15 - count.leading_zeros() as u16;
    let search_range = 16u16 << entry_selector;
    let mut out = Vec::new();
    out.extend_from_slice(version);
    for field in [
        count,
        search_range,
        entry_selector,
        count * 16 - search_range,
    ] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_offset = None;
    for (tag, data) in tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&sfnt_checksum(data).to_be_bytes());
        out.extend_from_slice(&u32::try_from(offset).ok()?.to_be_bytes());
        out.extend_from_slice(&u32::try_from(data.len()).ok()?.to_be_bytes());
        if tag == b"head" {
            head_offset = Some(offset);
        }
        offset += data.len().next_multiple_of(4);
    }
    for (_, data) in tables {
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(head) = head_offset {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(sfnt_checksum(&out));
        out[head + 8..head + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    Some(out)
}

fn sfnt_checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

    fn table<'a>(program: &'a [u8], tag: &[u8; 4]) -> &'a [u8] {
        read_table_directory(program)
            .unwrap()
            .into_iter()
            .find(|(t, _)| t == tag)
            .unwrap()
            .1
    }

    fn mappings(subtable: &[u8]) -> BTreeMap<u32, u16> {
        let mut found = BTreeMap::new();
        read_cmap_subtable(subtable, |code, gid| {
            found.insert(code, gid);
        })
        .unwrap();
        found
    }

    #[test]
    fn the_bmp_and_the_full_cmap_subtables_agree() {
        let subtables = unicode_subtables(table(REGULAR, b"cmap")).unwrap();
        let bmp = subtables
            .iter()
            .find(|s| read_u16(s, 0) == Some(4))
            .unwrap();
        let full = subtables
            .iter()
            .find(|s| read_u16(s, 0) == Some(12))
            .unwrap();
        let full: BTreeMap<u32, u16> = mappings(full)
            .into_iter()
            .filter(|&(code, _)| code < 0xFFFF)
            .collect();
        assert!(full.len() > 5000);
        assert_eq!(mappings(bmp), full);
        assert_eq!(full[&u32::from('A')], 36);
    }

    #[test]
    fn the_written_cmap_maps_exactly_the_characters_it_was_given() {
        let mapped = [
            ('A', 36),
            ('B', 37),
            ('C', 38),
            ('é', 136),
            ('—', 2807),
            ('😀', 9),
        ];
        let cmap = bmp_cmap(&mapped).unwrap();
        let subtables = unicode_subtables(&cmap).unwrap();
        assert_eq!(subtables.len(), 1);
        let expected: BTreeMap<u32, u16> = mapped[..5]
            .iter()
            .map(|&(ch, gid)| (u32::from(ch), gid))
            .collect();
        assert_eq!(mappings(subtables[0]), expected);
    }

    #[test]
    fn widths_run_over_consecutive_glyphs() {
        let gids = BTreeSet::from([3, 4, 5, 9, 200]);
        assert_eq!(
            widths_array(&gids, |gid| gid * 10),
            "[3[30 40 50]9[90]200[2000]]"
        );
        assert_eq!(widths_array(&BTreeSet::new(), |gid| gid), "[]");
    }

    #[test]
    fn to_unicode_ranges_stop_where_codes_or_text_change_their_high_byte() {
        let first_char = BTreeMap::from([
            (3, ' '),
            (4, '!'),
            (5, '"'),
            (7, 'é'),
            (0xFF, 'x'),
            (0x100, 'y'),
            (0x200, '\u{2FF}'),
            (0x201, '\u{300}'),
            (0x300, '😀'),
        ]);
        let cmap = to_unicode_cmap(&first_char);
        assert!(cmap.contains("1 beginbfrange\n<0003> <0005> <0020>\nendbfrange"));
        for single in [
            "<0007> <00E9>",
            "<00FF> <0078>",
            "<0100> <0079>",
            "<0200> <02FF>",
            "<0201> <0300>",
            "<0300> <D83DDE00>",
        ] {
            assert!(cmap.contains(single), "{single} in {cmap}");
        }
        assert!(cmap.contains("6 beginbfchar"));
    }

    #[test]
    fn the_prepared_program_keeps_outlines_only_for_prepared_characters() {
        use std::io::Read;
        let face = FontFace::load("F", "DejaVuSans", REGULAR).unwrap();
        let prepared = face.prepared();
        let mut program = Vec::new();
        flate2::read::ZlibDecoder::new(prepared.program.as_slice())
            .read_to_end(&mut program)
            .unwrap();
        assert_eq!(program.len(), prepared.program_length);
        assert!(program.len() < REGULAR.len() / 5);
        let head = table(&program, b"head");
        let loca = table(&program, b"loca");
        let outline_length = |ch: char| {
            let gid = usize::from(face.glyph(ch));
            if read_u16(head, 50) == Some(0) {
                2 * (read_u16(loca, 2 * gid + 2).unwrap() - read_u16(loca, 2 * gid).unwrap())
                    as usize
            } else {
                (read_u32(loca, 4 * gid + 4).unwrap() - read_u32(loca, 4 * gid).unwrap()) as usize
            }
        };
        for ch in ['a', 'Z', 'é', 'Ł', '“', '—', '…', '•', '€'] {
            assert!(face.is_prepared(face.glyph(ch)), "{ch}");
            assert!(outline_length(ch) > 0, "{ch}");
        }
        for ch in ['Ж', 'Ω', '→'] {
            assert!(!face.is_prepared(face.glyph(ch)), "{ch}");
            assert_eq!(outline_length(ch), 0, "{ch}");
        }
        assert!(prepared.base_font.ends_with("+DejaVuSans"));
        assert!(prepared.widths.starts_with("[3[317 "));
    }
}
