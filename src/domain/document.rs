use sha2::{Digest, Sha256};

/// The text a signer agrees to. Its identity is the SHA-256 of its exact bytes, so a version
/// never changes under a signature that cites it.
///
/// Format: a first line `# Title`; then blocks separated by blank lines: `## Heading`, a list of
/// `- [ ] commitment` lines (each one ticked by the signer), or a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PactDocument {
    text: String,
    title: String,
    blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    Commitment(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("dokumen harus diawali baris judul \"# Judul\"")]
    Title,
    #[error("dokumen harus memuat sedikitnya satu butir komitmen \"- [ ] ...\"")]
    NoCommitment,
    #[error("dokumen terlalu panjang ({0} karakter; paling banyak 20.000)")]
    TooLong(usize),
}

impl PactDocument {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        // Line endings are normalised so that the same text typed on Windows hashes the same.
        let text = raw.replace("\r\n", "\n").trim().to_string() + "\n";
        let len = text.chars().count();
        if len > 20_000 {
            return Err(DocumentError::TooLong(len));
        }
        let mut lines = text.lines();
        let title = lines
            .next()
            .and_then(|l| l.strip_prefix("# "))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or(DocumentError::Title)?;
        let mut blocks = Vec::new();
        for line in lines.map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(h) = line.strip_prefix("## ") {
                blocks.push(Block::Heading(h.trim().to_string()));
            } else if let Some(c) = line.strip_prefix("- [ ] ") {
                blocks.push(Block::Commitment(c.trim().to_string()));
            } else {
                blocks.push(Block::Paragraph(line.to_string()));
            }
        }
        if !blocks.iter().any(|b| matches!(b, Block::Commitment(_))) {
            return Err(DocumentError::NoCommitment);
        }
        Ok(Self {
            text,
            title,
            blocks,
        })
    }

    /// The default campaign text: Pakta Integritas and Pernyataan Netralitas with their legal basis.
    pub fn default_pact() -> Self {
        Self::parse(include_str!(
            "../../assets/documents/pakta-integritas-2024.txt"
        ))
        .expect("the built-in document is well formed")
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    pub fn commitments(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Commitment(c) => Some(c.as_str()),
            _ => None,
        })
    }

    pub fn sha256_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&Sha256::digest(self.text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pact_has_commitments_and_a_stable_hash() {
        let doc = PactDocument::default_pact();
        assert!(doc.commitments().count() >= 9);
        assert_eq!(
            doc.sha256_hex(),
            PactDocument::parse(doc.text()).unwrap().sha256_hex()
        );
        assert_eq!(doc.sha256_hex().len(), 64);
    }

    #[test]
    fn a_document_without_title_or_commitment_is_refused() {
        assert_eq!(
            PactDocument::parse("tanpa judul"),
            Err(DocumentError::Title)
        );
        assert_eq!(
            PactDocument::parse("# Judul\n\nparagraf"),
            Err(DocumentError::NoCommitment)
        );
        let crlf = PactDocument::parse("# J\r\n\r\n- [ ] Satu.\r\n").unwrap();
        assert_eq!(
            crlf.sha256_hex(),
            PactDocument::parse("# J\n\n- [ ] Satu.\n")
                .unwrap()
                .sha256_hex()
        );
    }
}
