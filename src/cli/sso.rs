//! The `--sso-*` flags of `ikrar serve`: the identity provider of "Masuk dengan SSO".

use clap::Args;

use crate::sso::SsoSettings;

#[derive(Args, Clone, Default)]
pub struct SsoArgs {
    /// Issuer URL of the OpenID Connect provider, e.g. https://sso.sulselprov.go.id/realms/asn;
    /// with it, the sign-in page offers "Masuk dengan SSO". Read on first use, not at start-up.
    #[arg(long, env = "IKRAR_SSO_ISSUER")]
    pub sso_issuer: Option<String>,
    /// The client id ikrar is registered under at the provider.
    #[arg(long, env = "IKRAR_SSO_CLIENT_ID", requires = "sso_issuer")]
    pub sso_client_id: Option<String>,
    #[arg(
        long,
        env = "IKRAR_SSO_CLIENT_SECRET",
        hide_env_values = true,
        requires = "sso_issuer"
    )]
    pub sso_client_secret: Option<String>,
    /// The ID token claim that carries the employee's NIP.
    #[arg(long, env = "IKRAR_SSO_NIP_CLAIM", default_value = "nip")]
    pub sso_nip_claim: String,
    /// Scopes asked for besides openid (comma-separated), so that the provider puts the NIP
    /// claim and the email address into the ID token.
    #[arg(long, env = "IKRAR_SSO_SCOPES", default_value = "profile,email")]
    pub sso_scopes: String,
    /// Let administrators sign in by SSO too, matched by the token's verified email address.
    #[arg(long, env = "IKRAR_SSO_ADMINS")]
    pub sso_admins: bool,
}

impl SsoArgs {
    pub fn settings(&self) -> anyhow::Result<Option<SsoSettings>> {
        let Some(issuer) = self.sso_issuer.clone().filter(|i| !i.trim().is_empty()) else {
            return Ok(None);
        };
        let (Some(client_id), Some(client_secret)) =
            (self.sso_client_id.clone(), self.sso_client_secret.clone())
        else {
            anyhow::bail!("--sso-issuer needs --sso-client-id and --sso-client-secret");
        };
        Ok(Some(SsoSettings {
            issuer,
            client_id,
            client_secret,
            nip_claim: self.sso_nip_claim.trim().to_string(),
            scopes: self
                .sso_scopes
                .split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "openid")
                .map(str::to_string)
                .collect(),
            admins: self.sso_admins,
        }))
    }
}
