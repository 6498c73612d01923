//! Outgoing mail: real SMTP through lettre, or `.eml` files in an outbox folder (the embedded
//! default, so that a pilot works before anyone has configured a mail server).

use std::path::PathBuf;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{FileTransport, Message, SmtpTransport, Transport};

#[derive(Debug, Clone)]
pub enum MailSettings {
    Outbox(PathBuf),
    Smtp {
        host: String,
        port: u16,
        /// `starttls`, `tls` (implicit) or `none` (a relay on a trusted network).
        security: String,
        username: Option<String>,
        password: Option<String>,
    },
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport_,
    from: lettre::message::Mailbox,
}

#[derive(Clone)]
enum Transport_ {
    Outbox(FileTransport),
    Smtp(SmtpTransport),
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid mail settings: {0}")]
    Settings(String),
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("could not hand the message to the mail transport: {0}")]
    Send(String),
}

impl Mailer {
    pub fn new(settings: &MailSettings, from: &str) -> Result<Self, MailError> {
        let from = from
            .parse()
            .map_err(|e| MailError::Settings(format!("sender {from:?}: {e}")))?;
        let transport = match settings {
            MailSettings::Outbox(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| MailError::Settings(format!("outbox {}: {e}", dir.display())))?;
                Transport_::Outbox(FileTransport::new(dir))
            }
            MailSettings::Smtp {
                host,
                port,
                security,
                username,
                password,
            } => {
                let builder = match security.as_str() {
                    "tls" => SmtpTransport::relay(host),
                    "starttls" => SmtpTransport::starttls_relay(host),
                    "none" => Ok(SmtpTransport::builder_dangerous(host)),
                    other => return Err(MailError::Settings(format!("SMTP security {other:?}"))),
                }
                .map_err(|e| MailError::Settings(e.to_string()))?
                .port(*port);
                let builder = match (username, password) {
                    (Some(u), Some(p)) => {
                        builder.credentials(Credentials::new(u.clone(), p.clone()))
                    }
                    _ => builder,
                };
                Transport_::Smtp(builder.build())
            }
        };
        Ok(Self { transport, from })
    }

    /// Sends a plain-text message. Blocking: call it off the async executor.
    pub fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let message = self
            .builder(to, subject)?
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.deliver(&message)
    }

    /// Sends a plain-text message with a PDF attached under `filename`. Blocking.
    pub fn send_with_pdf(
        &self,
        to: &str,
        subject: &str,
        body: String,
        filename: &str,
        pdf: Vec<u8>,
    ) -> Result<(), MailError> {
        use lettre::message::{Attachment, MultiPart, SinglePart};
        let pdf_type =
            ContentType::parse("application/pdf").map_err(|e| MailError::Build(e.to_string()))?;
        let message = self
            .builder(to, subject)?
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(body))
                    .singlepart(Attachment::new(filename.to_string()).body(pdf, pdf_type)),
            )
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.deliver(&message)
    }

    fn builder(
        &self,
        to: &str,
        subject: &str,
    ) -> Result<lettre::message::MessageBuilder, MailError> {
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to
                .parse()
                .map_err(|e| MailError::Build(format!("recipient: {e}")))?)
            .subject(subject))
    }

    fn deliver(&self, message: &Message) -> Result<(), MailError> {
        match &self.transport {
            Transport_::Outbox(t) => t
                .send(message)
                .map(drop)
                .map_err(|e| MailError::Send(e.to_string())),
            Transport_::Smtp(t) => t
                .send(message)
                .map(drop)
                .map_err(|e| MailError::Send(e.to_string())),
        }
    }
}
