use super::*;

/// A minimal one-page PDF with a classic cross-reference table.
fn tiny_pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let objects: [&[u8]; 4] = [
        b"<</Type/Catalog/Pages 2 0 R/Lang(id-ID)>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
        b"<</Subject(ikrar-certificate:AAAAAAAAAAAAAAAA)>>",
    ];
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<</Size 5/Root 1 0 R/Info 4 0 R/ID[<00><00>]>>\nstartxref\n{xref}\n%%EOF"
        )
        .as_bytes(),
    );
    pdf
}

/// The same page written with object streams and a cross-reference stream, with an existing
/// annotation and form, as other PDF writers do.
fn modern_pdf() -> Vec<u8> {
    let mut document = Document::load_mem(&tiny_pdf()).unwrap();
    let link = document.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Annot".to_vec())),
        ("Subtype", Object::Name(b"Link".to_vec())),
        (
            "Rect",
            Object::Array(vec![0.into(), 0.into(), 10.into(), 10.into()]),
        ),
    ]));
    let page = *document.get_pages().get(&1).unwrap();
    document
        .get_dictionary_mut(page)
        .unwrap()
        .set("Annots", Object::Array(vec![link.into()]));
    let mut out = Vec::new();
    document.save_modern(&mut out).unwrap();
    out
}

#[test]
fn a_sealed_pdf_reads_back_and_any_changed_byte_is_refused() {
    let seal = Seal::self_made("Pemerintah Provinsi Sulawesi Selatan", 1_700_000_000).unwrap();
    let signer = PdfSigner { seal: &seal };
    let original = tiny_pdf();
    let signed = sign(original.clone(), signer, 1_700_000_500).unwrap();
    assert_eq!(
        signed,
        sign(original.clone(), signer, 1_700_000_500).unwrap()
    );
    assert!(signed.starts_with(&original));
    let text = String::from_utf8_lossy(&signed);
    assert!(text.contains("/SigFlags 3"), "{text}");
    assert!(text.contains("/M(D:20231114222140+00'00')"), "{text}");

    let read = read_signature(&signed).unwrap();
    assert_eq!(read.signer_fingerprint, seal.fingerprint());
    assert_eq!(read.signing_time, Some(1_700_000_500));

    // Every byte outside /Contents is covered; inside it, the CMS refuses changes (bar a few
    // bytes of zero padding and unsigned CMS fields).
    let mut unnoticed = Vec::new();
    for at in (0..signed.len()).step_by(5) {
        let mut altered = signed.clone();
        altered[at] ^= 0x01;
        if read_signature(&altered).is_ok_and(|s| s.signer_fingerprint == seal.fingerprint()) {
            unnoticed.push(at);
        }
    }
    let (gap_start, gap_end) = {
        let at = rfind(&signed, b"/Contents").unwrap() + 9;
        (at, at + 2 * contents_capacity(&seal) + 2)
    };
    assert!(
        unnoticed.iter().all(|at| (gap_start..gap_end).contains(at)),
        "changes outside /Contents went unnoticed at {unnoticed:?}"
    );
    let mut appended = signed.clone();
    appended.extend_from_slice(b"% more\n");
    assert!(read_signature(&appended).is_err());
    assert_eq!(
        read_signature(&original).unwrap_err(),
        PdfSignatureError::NotSigned
    );
}

#[test]
fn a_signing_time_before_the_seal_existed_is_moved_to_its_start() {
    let seal = Seal::self_made("ikrar", 1_800_000_000).unwrap();
    let signed = sign(tiny_pdf(), PdfSigner { seal: &seal }, 1_700_000_000).unwrap();
    assert_eq!(
        read_signature(&signed).unwrap().signing_time,
        Some(1_800_000_000)
    );
}

#[test]
fn a_pdf_with_object_streams_and_annotations_is_sealed_too() {
    let seal = Seal::self_made("ikrar", 1_700_000_000).unwrap();
    let original = modern_pdf();
    let signed = sign(original, PdfSigner { seal: &seal }, 1_700_000_500).unwrap();
    read_signature(&signed).unwrap();
    let reread = Document::load_mem(&signed).unwrap();
    let page = *reread.get_pages().get(&1).unwrap();
    let annots = reread
        .get_dictionary(page)
        .unwrap()
        .get(b"Annots")
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        annots, 2,
        "the link annotation stays beside the seal's widget"
    );
}

#[test]
fn garbage_uploads_are_typed_errors_not_panics() {
    let seal = Seal::self_made("ikrar", 1_700_000_000).unwrap();
    let signed = sign(tiny_pdf(), PdfSigner { seal: &seal }, 1_700_000_500).unwrap();
    for cut in [0, 10, signed.len() / 2, signed.len() - 40] {
        assert!(read_signature(&signed[..cut]).is_err());
    }
    assert!(matches!(
        read_signature(b"%PDF-1.7\nnot really"),
        Err(PdfSignatureError::Unreadable(_))
    ));
}
