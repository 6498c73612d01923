//! Signing in through the province's identity provider (OpenID Connect, "Masuk dengan SSO"):
//! the authorization-code flow with PKCE, `state` and `nonce`. Employees are matched by the NIP
//! the provider vouches for in a claim of its signed ID token; administrators, where the
//! deployment allows it, by the token's email address.
//!
//! The provider is discovered on first use, not at start-up: a node must serve QR scans and code
//! sign-ins while the identity provider is down. What a sign-in needs between leaving for the
//! provider and coming back is stored in the database (`db::sso`), so the return may reach any
//! node; its `state` is used up by the first return that names it.

use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, IdToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::db::admins::{self, AdminRow};
use crate::db::audit::{self, AuditEvent};
use crate::db::employees::{self, Employee};
use crate::db::sso::{self as attempts, SsoAttempt};
use crate::db::{now, Db, DbError};
use crate::domain::{LoginId, Nip};
use crate::sign_in::{signed_in, Client, Recipient, SignInMethod, SIGN_IN_FAILED};

/// How long someone may take at the identity provider (its login, its second factor).
pub const ATTEMPT_LIFETIME_SECS: i64 = 10 * 60;
/// The provider's metadata and keys are read again after this, so a rotated key is picked up.
const METADATA_LIFETIME: Duration = Duration::from_secs(3600);

/// The deployment's identity provider, from `--sso-*` flags.
#[derive(Debug, Clone)]
pub struct SsoSettings {
    /// The issuer URL; its `/.well-known/openid-configuration` describes the provider.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The ID token claim that carries the employee's NIP.
    pub nip_claim: String,
    /// Scopes asked for besides `openid`, so that the provider puts the NIP claim in the token.
    pub scopes: Vec<String>,
    /// Whether administrators may sign in by SSO (matched by the token's email address).
    pub admins: bool,
}

/// Who is signing in; stored with the attempt, since both come back to the same address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Employee,
    Admin,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Self::Employee => "pegawai",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("Masuk dengan SSO tidak tersedia pada layanan ini.")]
    NotOffered,
    #[error(
        "Penyedia identitas (SSO) sedang tidak dapat dihubungi. Silakan coba lagi beberapa saat \
         lagi, atau masuk dengan kode yang dikirim ke surel."
    )]
    Unreachable(#[source] anyhow::Error),
    #[error(
        "Permintaan masuk SSO ini tidak berlaku: sudah dipakai, sudah kedaluwarsa, atau tidak \
         dimulai dari peramban ini. Anda belum masuk; silakan mulai lagi dari halaman Masuk."
    )]
    StaleAttempt,
    #[error(
        "Penyedia identitas tidak mengizinkan permintaan masuk ini ({0}). Anda belum masuk; \
         silakan mulai lagi dari halaman Masuk."
    )]
    Refused(String),
    #[error(
        "Token identitas dari penyedia SSO tidak sah: {0}. Anda belum masuk; silakan mulai lagi \
         dari halaman Masuk atau hubungi pengelola SSO instansi Anda."
    )]
    InvalidToken(&'static str),
    #[error(
        "Akun SSO Anda tidak memuat NIP yang sah (klaim \"{0}\"). Hubungi pengelola SSO instansi \
         Anda, atau masuk dengan kode yang dikirim ke surel."
    )]
    NoNip(String),
    #[error(
        "NIP {0} tidak terdaftar sebagai pegawai aktif pada daftar pegawai ikrar. Hubungi admin \
         kepegawaian instansi Anda agar NIP Anda dimasukkan ke daftar pegawai."
    )]
    NotOnRoster(String),
    #[error(
        "Alamat surel akun SSO Anda tidak terdaftar sebagai admin ikrar yang aktif. Hubungi admin \
         yang mengelola tim Anda."
    )]
    NotAnAdmin,
    #[error(
        "Terlalu banyak permintaan masuk yang gagal dari alamat jaringan Anda. Silakan coba lagi \
         dalam satu jam."
    )]
    TooManyFromAddress,
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("terjadi gangguan pada server; silakan coba lagi beberapa saat lagi")]
    Internal(#[source] anyhow::Error),
}

impl SsoError {
    /// The reason recorded in the audit trail; `None` for faults of the node, not refusals.
    fn audit_reason(&self) -> Option<&'static str> {
        Some(match self {
            Self::StaleAttempt => "state_tidak_berlaku",
            Self::Refused(_) => "ditolak_penyedia",
            Self::InvalidToken(_) => "token_tidak_sah",
            Self::NoNip(_) => "tanpa_nip",
            Self::NotOnRoster(_) => "nip_tidak_terdaftar",
            Self::NotAnAdmin => "bukan_admin",
            Self::TooManyFromAddress => "batas_alamat",
            Self::NotOffered | Self::Unreachable(_) | Self::Db(_) | Self::Internal(_) => {
                return None
            }
        })
    }
}

/// The claims of the provider's ID token beyond the standard ones: the NIP claim is named by the
/// deployment, so all of them are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProviderClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for ProviderClaims {}

type ProviderIdToken = IdToken<
    ProviderClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Who the provider says signed in, from a verified ID token.
#[derive(Debug, Clone)]
pub struct Identity {
    nip: Option<String>,
    email: Option<String>,
}

/// Where to send the browser, and what to remember until it comes back.
pub struct Departure {
    pub url: String,
    /// Also set in a short-lived cookie: the return must come to the browser that left.
    pub state: String,
    pub attempt: SsoAttempt,
}

/// The relying party: settings, an HTTP client, and the provider's metadata once read.
pub struct SingleSignOn {
    settings: SsoSettings,
    issuer: IssuerUrl,
    http: openidconnect::reqwest::Client,
    discovered: tokio::sync::Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl SingleSignOn {
    pub fn new(settings: SsoSettings) -> anyhow::Result<Self> {
        let issuer = IssuerUrl::new(settings.issuer.trim_end_matches('/').to_string())
            .map_err(|e| anyhow::anyhow!("--sso-issuer {:?}: {e}", settings.issuer))?;
        let http = openidconnect::reqwest::Client::builder()
            // Following a provider's redirect would let it point the node at any address.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            settings,
            issuer,
            http,
            discovered: tokio::sync::Mutex::new(None),
        })
    }

    pub fn admins_allowed(&self) -> bool {
        self.settings.admins
    }

    pub fn nip_claim(&self) -> &str {
        &self.settings.nip_claim
    }

    async fn metadata(&self) -> Result<CoreProviderMetadata, SsoError> {
        let mut discovered = self.discovered.lock().await;
        if let Some((at, metadata)) = discovered.as_ref() {
            if at.elapsed() < METADATA_LIFETIME {
                return Ok(metadata.clone());
            }
        }
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| SsoError::Unreachable(anyhow::Error::new(e).context("OIDC discovery")))?;
        *discovered = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn redirect_url(redirect: &str) -> Result<RedirectUrl, SsoError> {
        RedirectUrl::new(redirect.to_string())
            .map_err(|e| SsoError::Unreachable(anyhow::anyhow!("redirect URL {redirect:?}: {e}")))
    }

    /// Prepares the trip to the provider: a fresh state, nonce and PKCE verifier.
    pub async fn departure(&self, redirect: &str, role: Role) -> Result<Departure, SsoError> {
        let client = CoreClient::from_provider_metadata(
            self.metadata().await?,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(Self::redirect_url(redirect)?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let at = now();
        Ok(Departure {
            url: url.to_string(),
            attempt: SsoAttempt {
                state_hash: crate::sign_in::hash(&[state.secret()]),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                role: role.as_str().into(),
                created_at: at,
                expires_at: at + ATTEMPT_LIFETIME_SECS,
                used: false,
            },
            state: state.secret().clone(),
        })
    }

    /// Exchanges the code for tokens and verifies the ID token: signature (with the provider's
    /// published keys), issuer, audience, expiry and nonce.
    pub async fn identity(
        &self,
        redirect: &str,
        attempt: &SsoAttempt,
        code: String,
    ) -> Result<Identity, SsoError> {
        let client = CoreClient::from_provider_metadata(
            self.metadata().await?,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(Self::redirect_url(redirect)?);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| SsoError::Unreachable(anyhow::Error::new(e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(attempt.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(answer) => {
                    SsoError::Refused(answer.error().to_string())
                }
                e => SsoError::Unreachable(anyhow::Error::new(e).context("OIDC token request")),
            })?;
        let raw = tokens
            .id_token()
            .ok_or(SsoError::InvalidToken(
                "penyedia tidak mengirim token identitas",
            ))?
            .to_string();
        let token: ProviderIdToken = raw
            .parse()
            .map_err(|_| SsoError::InvalidToken("token tidak dapat dibaca"))?;
        let claims = token
            .claims(
                &client.id_token_verifier(),
                &Nonce::new(attempt.nonce.clone()),
            )
            .map_err(|e| SsoError::InvalidToken(why_invalid(&e)))?;
        let nip = claims
            .additional_claims()
            .claims
            .get(&self.settings.nip_claim)
            .and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        let verified_email = claims.email_verified() != Some(false);
        Ok(Identity {
            nip,
            email: claims
                .email()
                .filter(|_| verified_email)
                .map(|e| e.as_str().to_string()),
        })
    }
}

fn why_invalid(e: &ClaimsVerificationError) -> &'static str {
    match e {
        ClaimsVerificationError::InvalidAudience(_) => "token ditujukan untuk aplikasi lain",
        ClaimsVerificationError::Expired(_) => "token sudah kedaluwarsa",
        ClaimsVerificationError::InvalidIssuer(_) => {
            "penerbit token bukan penyedia identitas yang dikonfigurasi"
        }
        ClaimsVerificationError::InvalidNonce(_) => "token bukan jawaban atas permintaan ini",
        ClaimsVerificationError::SignatureVerification(_) => "tanda tangan token tidak sah",
        _ => "token tidak lolos pemeriksaan",
    }
}

/// Remembers a departure until the browser comes back.
pub fn depart(db: &Db, attempt: &SsoAttempt) -> Result<(), DbError> {
    attempts::begin(&mut *db.write()?, attempt)
}

/// Uses up the attempt the returning browser names. `cookie_state` is the state this browser was
/// given when it left; a return without it, or with another, is refused like a replay.
pub fn arrive(
    db: &Db,
    client: &Client<'_>,
    state: &str,
    cookie_state: Option<&str>,
) -> Result<(Role, SsoAttempt), SsoError> {
    let mut conn = db.write()?;
    let since = now() - 3600;
    if audit::count_from_address(&mut conn, client.addr, SIGN_IN_FAILED, since)?
        >= client.limits.failed_tries_per_hour
    {
        return Err(SsoError::TooManyFromAddress);
    }
    if state.is_empty() || cookie_state != Some(state) {
        return Err(SsoError::StaleAttempt);
    }
    let attempt = attempts::take(&mut conn, &crate::sign_in::hash(&[state]), now())?
        .ok_or(SsoError::StaleAttempt)?;
    let role = if attempt.role == Role::Admin.as_str() {
        Role::Admin
    } else {
        Role::Employee
    };
    Ok((role, attempt))
}

/// Opens an employee's session for the NIP the provider vouched for.
pub fn sign_in_employee(
    db: &Db,
    client: &Client<'_>,
    nip_claim: &str,
    identity: &Identity,
) -> Result<(String, Employee), SsoError> {
    let nip = identity
        .nip
        .as_deref()
        .and_then(|raw| Nip::parse(raw).ok())
        .ok_or_else(|| SsoError::NoNip(nip_claim.to_string()))?;
    let masked = nip.masked();
    let mut conn = db.write()?;
    let employee = employees::find_by_login(&mut conn, &LoginId::Nip(nip))?
        .ok_or(SsoError::NotOnRoster(masked.clone()))?;
    let token = signed_in(
        &mut conn,
        client,
        &Recipient::employee(&employee),
        SignInMethod::SingleSignOn,
        &masked,
    )?;
    Ok((token, employee))
}

/// Opens an administrator's session for the verified email address of the token.
pub fn sign_in_admin(
    db: &Db,
    client: &Client<'_>,
    identity: &Identity,
) -> Result<(String, AdminRow), SsoError> {
    let email = identity.email.as_deref().ok_or(SsoError::NotAnAdmin)?;
    let mut conn = db.write()?;
    let admin = admins::find_by_email(&mut conn, &email.to_lowercase())?
        .filter(|a| a.active)
        .ok_or(SsoError::NotAnAdmin)?;
    let token = signed_in(
        &mut conn,
        client,
        &Recipient::admin(&admin),
        SignInMethod::SingleSignOn,
        &admin.email,
    )?;
    Ok((token, admin))
}

/// Records a refused SSO return in the audit trail (faults of the node are logged instead).
pub fn record_refusal(db: &Db, client: &Client<'_>, error: &SsoError) -> Result<(), DbError> {
    let Some(reason) = error.audit_reason() else {
        return Ok(());
    };
    let target = match error {
        SsoError::NotOnRoster(masked) => masked.as_str(),
        _ => "sso",
    };
    audit::append(
        &mut *db.write()?,
        &AuditEvent {
            actor: "tidak dikenal",
            action: SIGN_IN_FAILED,
            target,
            scope_code: "",
            agency: "",
            client_addr: client.addr,
            detail: &format!("metode=sso; alasan={reason}"),
        },
        now(),
    )?;
    Ok(())
}
