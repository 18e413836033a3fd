//! How sign-in codes reach a phone: senders behind one trait, chosen by configuration.

use crate::config::SmsConfig;
use async_trait::async_trait;

/// Delivers a text message to a phone number.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Send `text` to `to` (E.164); `Err` carries a reason for the log.
    async fn send(&self, to: &str, text: &str) -> Result<(), String>;
}

/// The sender for `config`.
pub fn sender_for(config: &SmsConfig) -> Box<dyn SmsSender> {
    match config {
        SmsConfig::Console => Box::new(ConsoleSms),
        SmsConfig::Twilio {
            account_sid,
            auth_token,
            from,
            base_url,
        } => Box::new(TwilioSms {
            client: reqwest::Client::new(),
            account_sid: account_sid.clone(),
            auth_token: auth_token.clone(),
            from: from.clone(),
            base_url: base_url.trim_end_matches('/').to_owned(),
        }),
    }
}

/// Prints each message on standard output: the default, so a self-hoster (or a test)
/// reads the code from the console.
#[derive(Debug, Default)]
pub struct ConsoleSms;

#[async_trait]
impl SmsSender for ConsoleSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), String> {
        println!("SMS to {to}: {text}");
        Ok(())
    }
}

/// Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form body,
/// basic auth), which several other providers also speak.
#[derive(Debug)]
pub struct TwilioSms {
    client: reqwest::Client,
    account_sid: String,
    auth_token: String,
    from: String,
    base_url: String,
}

#[async_trait]
impl SmsSender for TwilioSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), String> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base_url, self.account_sid
        );
        let response = self
            .client
            .post(url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&[("To", to), ("From", self.from.as_str()), ("Body", text)])
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await
            .map_err(|err| format!("SMS gateway unreachable: {err}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("SMS gateway answered {}", response.status()))
        }
    }
}
