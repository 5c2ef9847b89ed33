//! Flags and value parsers several commands share.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// A domain enum as a command-line value: the same variants under the names clap gives
/// them, with help from the doc comments here, turned into the domain's own type once
/// parsed. The domain modules stay free of clap.
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident => $domain:ty { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl From<$name> for $domain {
            fn from(choice: $name) -> Self {
                match choice {
                    $($name::$variant => <$domain>::$variant),+
                }
            }
        }
    };
}
pub(super) use choice;

/// Where a command writes its reports.
#[derive(Debug, Args)]
pub struct ReportDir {
    /// Where the reports go (default: a new folder under reports/, named after the run).
    #[arg(long, value_name = "DIR", env = "KARIGAR_PERF_REPORT_DIR")]
    pub report_dir: Option<PathBuf>,
}

/// Whether a command shows its progress as it goes.
#[derive(Debug, Args)]
pub struct Quiet {
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
}

/// How requests reach the target (over the scenario's `[http]` table).
#[derive(Debug, Args)]
#[command(next_help_heading = "HTTP and TLS")]
pub struct HttpArgs {
    /// A PEM file of CA certificates to trust besides the system's (an internal CA).
    #[arg(long, value_name = "FILE", env = "KARIGAR_PERF_CA_CERT")]
    pub ca_cert: Option<PathBuf>,

    /// Verify no certificate and no host name (a lab's self-signed server); the
    /// console and the report say so.
    #[arg(long, env = "KARIGAR_PERF_INSECURE", value_parser = clap::builder::BoolishValueParser::new())]
    pub insecure: bool,

    /// Verify certificates and host names even where the scenario's `[http]` table says
    /// `insecure = true`.
    #[arg(long, conflicts_with = "insecure")]
    pub no_insecure: bool,

    /// A PEM client certificate, for servers that require one (mTLS).
    #[arg(
        long,
        value_name = "FILE",
        env = "KARIGAR_PERF_CLIENT_CERT",
        requires = "client_key"
    )]
    pub client_cert: Option<PathBuf>,

    /// The client certificate's PEM private key.
    #[arg(
        long,
        value_name = "FILE",
        env = "KARIGAR_PERF_CLIENT_KEY",
        requires = "client_cert"
    )]
    pub client_key: Option<PathBuf>,

    /// Connect to ADDR for HOST (the URL's port), keeping HOST in the URL, the Host
    /// header and the TLS server name, e.g. karigar.test:443:127.0.0.1 (repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = crate::http::parse_resolve)]
    pub resolve: Vec<crate::http::Resolve>,

    /// A header for every request, its value from the environment:
    /// 'X-Gateway-Key: ${GATEWAY_KEY}' (single quotes; repeatable). Never reported.
    #[arg(long = "header", short = 'H', value_name = "'NAME: VALUE'", value_parser = crate::http::parse_header)]
    pub headers: Vec<(String, String)>,

    /// Basic auth for every request without an Authorization header of its own:
    /// 'USER:${PASSWORD_VARIABLE}'. Never reported.
    #[arg(long, value_name = "'USER:PASSWORD'", env = "KARIGAR_PERF_BASIC_AUTH")]
    pub basic_auth: Option<String>,

    /// HTTP/2 only (ALPN h2 over TLS, prior knowledge over plain HTTP).
    #[arg(long, env = "KARIGAR_PERF_HTTP2", value_parser = clap::builder::BoolishValueParser::new())]
    pub http2: bool,

    /// HTTP/1.1 even where the scenario's `[http]` table says `http2 = true`.
    #[arg(long, conflicts_with = "http2")]
    pub no_http2: bool,

    /// The header each request's id goes in (default x-request-id), beside a W3C
    /// traceparent: run, generator, user, iteration and step, to find in the server's logs.
    #[arg(long, value_name = "NAME", env = "KARIGAR_PERF_REQUEST_ID_HEADER")]
    pub request_id_header: Option<String>,

    /// No request id and no traceparent on any request.
    #[arg(long, conflicts_with = "request_id_header")]
    pub no_request_id: bool,
}

/// `512MiB`, `2GiB`, `1.5GB`, `1048576`.
pub(super) fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..split]
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 512MiB"))?;
    let unit: f64 = match text[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit {other:?}: use B, KiB, MiB, GiB, KB, MB or GB"
            ))
        }
    };
    Ok((number * unit) as u64)
}

/// `500m` or `1.5`: cores, as Kubernetes writes them.
pub(super) fn parse_cores(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let cores = match text.strip_suffix('m') {
        Some(millis) => millis.parse::<f64>().map(|m| m / 1000.0),
        None => text.parse::<f64>(),
    };
    match cores {
        Ok(cores) if cores.is_finite() && cores > 0.0 && cores <= 1024.0 => Ok(cores),
        _ => Err(format!("{text:?} is not a CPU amount such as 500m or 1.5")),
    }
}

/// `1%` or `0.01`, as a fraction.
pub(super) fn parse_percent(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(number) => (number, 100.0),
        None => (text.trim(), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if (0.0..=scale).contains(&value) => Ok(value / scale),
        _ => Err(format!("{text:?} is not a share such as 1% or 0.01")),
    }
}

pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::scenario::parse_duration(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_bytes("512MiB"), Ok(512 * 1024 * 1024));
        assert_eq!(super::parse_bytes("1.5GB"), Ok(1_500_000_000));
        assert_eq!(super::parse_bytes("2048"), Ok(2048));
        assert!(super::parse_bytes("12 parsecs").is_err());
    }

    #[test]
    fn shares() {
        assert_eq!(super::parse_percent("1%"), Ok(0.01));
        assert_eq!(super::parse_percent("0.05"), Ok(0.05));
        assert!(super::parse_percent("150%").is_err());
        assert!(super::parse_percent("lots").is_err());
    }
}
