//! The TLS configuration every HTTP client of the harness gets, built from the run's
//! [`HttpSettings`]: the roots it trusts (the system's, and `--ca-cert`'s), the client
//! certificate (mTLS), `--insecure`, and the protocols it offers (ALPN).
//!
//! Built here rather than by `reqwest` so that the trusted roots are read and parsed
//! once per process, on the first handshake that needs them, and shared: `reqwest` read
//! the system's bundle and every file of its certificates folder for each client it
//! built (about 3 ms), TLS or not, and each client kept its own parse of them (about
//! 86 KB: 2,000 `--clients per-user` users over HTTP/2 held 419 MB where one shared set
//! of roots leaves 240 MB).

use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::http::{HttpSettings, Identity, Pem};

/// The protocols a client offers in its TLS handshake.
#[derive(Clone, Copy)]
pub enum Alpn {
    Http1,
    Http2,
    /// Either, HTTP/2 preferred (`reqwest`'s own default).
    Any,
}

/// The TLS configuration for clients built from `settings`; errors name the file at
/// fault.
pub fn config(settings: &HttpSettings, alpn: Alpn) -> Result<ClientConfig, String> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let verifier = Verifier::new(settings, provider)?;
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match &settings.identity {
        Some(identity) => {
            let (certs, key) = identity_of(identity)?;
            builder.with_client_auth_cert(certs, key).map_err(|e| {
                format!(
                    "{} and {}: not a usable certificate and private key: {e}",
                    identity.cert.path.display(),
                    identity.key.path.display()
                )
            })?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = match alpn {
        Alpn::Http1 => vec![b"http/1.1".to_vec()],
        Alpn::Http2 => vec![b"h2".to_vec()],
        Alpn::Any => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    };
    Ok(config)
}

/// The server's certificate checked against the system's roots and `--ca-cert`'s, as
/// `reqwest`'s own verifier checks it, the roots taken on the first handshake; or, with
/// `--insecure`, nothing checked (no certificate, no name, no signature).
#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    /// `None`: `--insecure`.
    roots: Option<Roots>,
}

#[derive(Debug)]
struct Roots {
    ca: Option<Pem>,
    verifier: OnceLock<Result<Arc<WebPkiServerVerifier>, rustls::Error>>,
}

impl Verifier {
    /// Fails now, naming the file, when `--ca-cert` holds no CA certificate.
    fn new(settings: &HttpSettings, provider: Arc<CryptoProvider>) -> Result<Self, String> {
        let roots = match settings.insecure {
            true => None,
            false => {
                if let Some(ca) = &settings.ca_cert {
                    ca_certificates(ca)?;
                }
                Some(Roots {
                    ca: settings.ca_cert.clone(),
                    verifier: OnceLock::new(),
                })
            }
        };
        Ok(Self { provider, roots })
    }

    /// The verifier over the roots; with no root at all (a system without CA
    /// certificates, no `--ca-cert`) every certificate is one of an unknown issuer.
    fn webpki(&self, roots: &Roots) -> Result<Arc<WebPkiServerVerifier>, rustls::Error> {
        roots
            .verifier
            .get_or_init(|| {
                let store = self::roots(roots.ca.as_ref()).map_err(rustls::Error::General)?;
                if store.is_empty() {
                    return Err(rustls::Error::InvalidCertificate(
                        rustls::CertificateError::UnknownIssuer,
                    ));
                }
                WebPkiServerVerifier::builder_with_provider(store, self.provider.clone())
                    .build()
                    .map_err(|e| rustls::Error::General(e.to_string()))
            })
            .clone()
    }

    /// A handshake's signature checked by `check`, unless nothing is checked.
    fn signature(
        &self,
        check: impl FnOnce(&WebPkiSupportedAlgorithms) -> Result<HandshakeSignatureValid, rustls::Error>,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match self.roots {
            None => Ok(HandshakeSignatureValid::assertion()),
            Some(_) => check(&self.provider.signature_verification_algorithms),
        }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.roots {
            None => Ok(ServerCertVerified::assertion()),
            Some(roots) => self.webpki(roots)?.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(|algorithms| rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(|algorithms| rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The system's roots, with `ca`'s certificates when given; each set parsed once and
/// shared (the last CA's set is kept: a run has one).
fn roots(ca: Option<&Pem>) -> Result<Arc<RootCertStore>, String> {
    let Some(ca) = ca else {
        return Ok(system_roots().clone());
    };
    static WITH_CA: Mutex<Option<(Vec<u8>, Arc<RootCertStore>)>> = Mutex::new(None);
    let mut kept = WITH_CA.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((bytes, store)) = kept.as_ref() {
        if *bytes == ca.bytes {
            return Ok(store.clone());
        }
    }
    let mut store = RootCertStore::clone(system_roots());
    store.roots.extend(ca_certificates(ca)?.roots);
    let store = Arc::new(store);
    *kept = Some((ca.bytes.clone(), store.clone()));
    Ok(store)
}

/// The system's trusted roots (those that make trust anchors; the others are left out,
/// as `reqwest`'s own verifier leaves them), read on first use.
fn system_roots() -> &'static Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        Arc::new(store)
    })
}

/// `ca`'s certificates as trust anchors; an error names the file when it has none, or
/// one that is no CA certificate.
fn ca_certificates(ca: &Pem) -> Result<RootCertStore, String> {
    let certs = pem_certificates(ca)?;
    if certs.is_empty() {
        return Err(format!("{}: not a PEM certificate", ca.path.display()));
    }
    let mut store = RootCertStore::empty();
    for cert in certs {
        store
            .add(cert)
            .map_err(|e| format!("{}: not a CA certificate: {e}", ca.path.display()))?;
    }
    Ok(store)
}

fn pem_certificates(pem: &Pem) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::pem_slice_iter(&pem.bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not a PEM certificate: {e}", pem.path.display()))
}

/// The client certificate's chain and its private key.
fn identity_of(
    identity: &Identity,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    use rustls::pki_types::pem::PemObject as _;
    let unusable = |what: String| {
        format!(
            "{} and {}: not a PEM certificate and private key: {what}",
            identity.cert.path.display(),
            identity.key.path.display()
        )
    };
    let certs = pem_certificates(&identity.cert)?;
    if certs.is_empty() {
        return Err(unusable("no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&identity.key.bytes).map_err(|e| unusable(e.to_string()))?;
    Ok((certs, key))
}
