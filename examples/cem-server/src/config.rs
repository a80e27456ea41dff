//! Server configuration: defaults, then a TOML file, then environment variables.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// Everything `cem serve` can be told.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    /// Address to listen on (`CEM_LISTEN`).
    pub(crate) listen: SocketAddr,
    /// `sqlite:cem.db`, a file path, or `postgres://…` (`CEM_DATABASE_URL`).
    pub(crate) database_url: String,
    /// A tracing filter such as `info` or `cem_http=debug,info` (`CEM_LOG`).
    pub(crate) log: String,
    /// `text` or `json` logs (`CEM_LOG_FORMAT`).
    pub(crate) log_format: String,
    /// Load the demo organization into an empty database (`CEM_DEMO`).
    pub(crate) demo: bool,
    /// On an empty database without the demo: the first administrator's login and password
    /// (`CEM_ADMIN_LOGIN`, `CEM_ADMIN_PASSWORD`).
    pub(crate) admin_login: String,
    /// See `admin_login`; never logged.
    pub(crate) admin_password: Option<String>,
    /// Browser origins allowed to call the API (`CEM_CORS_ORIGINS`, comma-separated).
    pub(crate) cors_origins: Vec<String>,
    /// Public calls per client address and minute (`CEM_PUBLIC_PER_MINUTE`).
    pub(crate) public_per_minute: u32,
    /// Sign-in attempts per client address and minute.
    pub(crate) logins_per_minute: u32,
    /// Lifetime of a user's token, in hours.
    pub(crate) token_hours: u64,
    /// Request time limit, in seconds.
    pub(crate) request_timeout_secs: u64,
    /// Largest request body, in bytes.
    pub(crate) body_limit: usize,
    /// Database connections (`CEM_DB_CONNECTIONS`).
    pub(crate) db_connections: u32,
    /// Seconds to wait for requests in flight at shutdown.
    pub(crate) shutdown_grace_secs: u64,
    /// The address customers reach the server at, before the paths of links in messages
    /// (`CEM_PUBLIC_URL`, such as `https://queue.bank.example`); `http://` and the listen
    /// address when absent.
    pub(crate) public_url: Option<String>,
    /// An HTTP gateway that sends SMS (`CEM_SMS_GATEWAY_URL`): each message is posted to it
    /// as JSON. Without it, SMS are only logged.
    pub(crate) sms_gateway_url: Option<String>,
    /// The secret that signs requests to the gateway (`CEM_NOTIFY_SECRET`); never logged.
    pub(crate) notify_secret: Option<String>,
    /// An SMTP relay for e-mail (`CEM_SMTP_HOST`). Without it, e-mail is only logged.
    pub(crate) smtp_host: Option<String>,
    /// The relay's port; 0 takes the usual one for `smtp_security`.
    pub(crate) smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub(crate) smtp_security: String,
    /// The sender, such as `CEM <noreply@bank.example>` (`CEM_SMTP_FROM`).
    pub(crate) smtp_from: String,
    /// Credentials for the relay (`CEM_SMTP_USER`, `CEM_SMTP_PASSWORD`); never logged.
    pub(crate) smtp_user: Option<String>,
    /// See `smtp_user`.
    pub(crate) smtp_password: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite:cem.db".into(),
            log: "info".into(),
            log_format: "text".into(),
            demo: true,
            admin_login: "admin".into(),
            admin_password: None,
            cors_origins: Vec::new(),
            public_per_minute: 60,
            logins_per_minute: 10,
            token_hours: 12,
            request_timeout_secs: 10,
            body_limit: 64 * 1024,
            db_connections: 8,
            shutdown_grace_secs: 30,
            public_url: None,
            sms_gateway_url: None,
            notify_secret: None,
            smtp_host: None,
            smtp_port: 0,
            smtp_security: "starttls".into(),
            smtp_from: "CEM <noreply@localhost>".into(),
            smtp_user: None,
            smtp_password: None,
        }
    }
}

impl Config {
    /// The address customers reach the server at: `public_url`, else `http://` and `listen`.
    pub(crate) fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The defaults, overridden by `file` (when given) and then by the environment.
    pub(crate) fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Applies the `CEM_*` variables that `var` knows.
    pub(crate) fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(name: &str, value: &str) -> anyhow::Result<T>
        where
            T::Err: std::fmt::Display,
        {
            value
                .trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("{name}={value:?}: {e}"))
        }
        if let Some(v) = var("CEM_LISTEN") {
            self.listen = parse("CEM_LISTEN", &v)?;
        }
        if let Some(v) = var("CEM_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = var("CEM_LOG") {
            self.log = v;
        }
        if let Some(v) = var("CEM_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = var("CEM_DEMO") {
            self.demo = parse("CEM_DEMO", &v)?;
        }
        if let Some(v) = var("CEM_ADMIN_LOGIN") {
            self.admin_login = v;
        }
        if let Some(v) = var("CEM_ADMIN_PASSWORD") {
            self.admin_password = Some(v);
        }
        if let Some(v) = var("CEM_CORS_ORIGINS") {
            self.cors_origins = v
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = var("CEM_PUBLIC_PER_MINUTE") {
            self.public_per_minute = parse("CEM_PUBLIC_PER_MINUTE", &v)?;
        }
        if let Some(v) = var("CEM_DB_CONNECTIONS") {
            self.db_connections = parse("CEM_DB_CONNECTIONS", &v)?;
        }
        for (name, field) in [
            ("CEM_PUBLIC_URL", &mut self.public_url),
            ("CEM_SMS_GATEWAY_URL", &mut self.sms_gateway_url),
            ("CEM_NOTIFY_SECRET", &mut self.notify_secret),
            ("CEM_SMTP_HOST", &mut self.smtp_host),
            ("CEM_SMTP_USER", &mut self.smtp_user),
            ("CEM_SMTP_PASSWORD", &mut self.smtp_password),
        ] {
            if let Some(v) = var(name) {
                *field = Some(v);
            }
        }
        if let Some(v) = var("CEM_SMTP_FROM") {
            self.smtp_from = v;
        }
        if !matches!(self.smtp_security.as_str(), "none" | "starttls" | "tls") {
            anyhow::bail!(
                "smtp_security must be `none`, `starttls` or `tls`, not {:?}",
                self.smtp_security
            );
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            anyhow::bail!(
                "log_format must be `text` or `json`, not {:?}",
                self.log_format
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_overrides_the_file() {
        let mut config: Config =
            toml::from_str("listen = \"0.0.0.0:9000\"\ndemo = false\nlog = \"debug\"").unwrap();
        assert_eq!(config.listen.port(), 9000);
        let env = |name: &str| match name {
            "CEM_LISTEN" => Some("127.0.0.1:9100".to_owned()),
            "CEM_DATABASE_URL" => Some("postgres://db/cem".to_owned()),
            "CEM_CORS_ORIGINS" => Some("https://a.example, https://b.example".to_owned()),
            _ => None,
        };
        config.apply_env(env).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9100".parse().unwrap());
        assert_eq!(config.database_url, "postgres://db/cem");
        assert_eq!(config.cors_origins.len(), 2);
        assert!(!config.demo);
        assert_eq!(config.log, "debug");
    }

    #[test]
    fn bad_values_are_named() {
        let mut config = Config::default();
        let err = config
            .apply_env(|n| (n == "CEM_LISTEN").then(|| "nowhere".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("CEM_LISTEN"), "{err}");
        assert!(
            toml::from_str::<Config>("lisen = \"x\"").is_err(),
            "typos are refused"
        );
    }
}
