/// Why a certificate is revoked. The category is public on the verification page; the note is
/// kept for the audit trail only, as it may name people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    WrongData,
    NotTheSigner,
    LeftService,
    Other,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 4] = [
        Self::WrongData,
        Self::NotTheSigner,
        Self::LeftService,
        Self::Other,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WrongData => "data_keliru",
            Self::NotTheSigner => "bukan_penanda_tangan",
            Self::LeftService => "berhenti_atau_pindah",
            Self::Other => "lainnya",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::WrongData => "Data pegawai pada sertifikat keliru",
            Self::NotTheSigner => "Tidak ditandatangani oleh pegawai yang bersangkutan",
            Self::LeftService => "Pegawai berhenti atau pindah tugas",
            Self::Other => "Alasan lain",
        }
    }

    /// The category of a stored reason (`category: note`).
    pub fn of_stored(stored: &str) -> Option<Self> {
        Self::parse(stored.split(':').next().unwrap_or(""))
    }

    /// The byte that stands for the category in a revocation's log entry (docs/log.md).
    pub fn code(self) -> u8 {
        match self {
            Self::WrongData => 1,
            Self::NotTheSigner => 2,
            Self::LeftService => 3,
            Self::Other => 4,
        }
    }

    pub fn of_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}
