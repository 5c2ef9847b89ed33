//! `--resolve HOST:PORT:ADDR`, as curl's: which origins it sends where, and the entries
//! that match no origin the run reaches.

use std::net::{IpAddr, SocketAddr};

/// `HOST:PORT:ADDR`, as curl's `--resolve`: connections to HOST on PORT go to ADDR (on
/// that port) while the request keeps HOST in its URL, `Host` header and TLS server
/// name. Entries for one host on several ports are each for their own port.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub addr: IpAddr,
}

impl Resolve {
    /// curl's rule: an entry is for its host on its port, no other.
    pub fn applies_to(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.eq_ignore_ascii_case(host)
    }
}

/// Where each of `origins` (URLs) is reached by `resolve`'s entries, as `(host,
/// address)`; origins no entry is for are left to DNS. One client reaches one address
/// per host name, so two origins of one host sent to two addresses are an error.
pub fn routes(resolve: &[Resolve], origins: &[&str]) -> Result<Vec<(String, SocketAddr)>, String> {
    let mut routes: Vec<(String, SocketAddr, &str)> = Vec::new();
    for origin in origins {
        let Some((host, port)) = host_and_port(origin) else {
            continue;
        };
        let Some(entry) = resolve.iter().find(|e| e.applies_to(&host, port)) else {
            continue;
        };
        match routes.iter().find(|(h, _, _)| *h == host) {
            Some((_, addr, other)) if addr.ip() != entry.addr => {
                return Err(format!(
                "--resolve sends {host} to {} for {other} and to {} for {origin}: one client reaches a host \
                     name at one address; give the two a name each",
                addr.ip(),
                entry.addr
            ))
            }
            Some(_) => {}
            None => routes.push((host, SocketAddr::new(entry.addr, port), origin)),
        }
    }
    Ok(routes.into_iter().map(|(host, addr, _)| (host, addr)).collect())
}

/// An origin whose host has entries, none of them for its port: curl would leave it to
/// DNS, which is never what was meant. An error that says both ports.
pub fn unmatched_resolve(resolve: &[Resolve], origins: &[&str]) -> Result<(), String> {
    for (host, port) in origins.iter().filter_map(|o| host_and_port(o)) {
        let entries: Vec<String> = resolve
            .iter()
            .filter(|e| e.host.eq_ignore_ascii_case(&host))
            .map(|e| format!("{}:{}:{}", e.host, e.port, e.addr))
            .collect();
        if !entries.is_empty() && !resolve.iter().any(|e| e.applies_to(&host, port)) {
            return Err(format!(
                "--resolve {} is for another port than {port}, the one the run reaches {host} on \
                 (an entry is for its host and port, as curl's: add {host}:{port}:ADDR)",
                entries.join(", ")
            ));
        }
    }
    Ok(())
}

/// A URL's host (lower case) and port (the scheme's when none is written).
fn host_and_port(origin: &str) -> Option<(String, u16)> {
    let url = url::Url::parse(origin).ok()?;
    Some((url.host_str()?.to_ascii_lowercase(), url.port_or_known_default()?))
}

/// `HOST:PORT:ADDR` (ADDR an IPv4 or `[IPv6]` address).
pub fn parse_resolve(text: &str) -> Result<Resolve, String> {
    let bad = || format!("{text:?} is not HOST:PORT:ADDR, e.g. karigar.test:443:127.0.0.1");
    let (host, rest) = text.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Resolve {
        host,
        port: port.trim().parse().map_err(|_| bad())?,
        addr: addr.trim().parse().map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpOptions;

    #[test]
    fn resolve_entries_are_for_their_host_and_port_as_curls() {
        let entry = |text: &str| parse_resolve(text).unwrap();
        let entries = [
            entry("karigar.test:443:10.0.0.1"),
            entry("karigar.test:3000:10.0.0.2"),
        ];
        let origins = ["https://Karigar.test", "http://karigar.test:3000/"];
        assert_eq!(
            routes(&entries[..1], &origins).unwrap(),
            [("karigar.test".to_owned(), "10.0.0.1:443".parse().unwrap())],
            "only the origin on its port"
        );
        assert!(routes(&entries, &origins[1..]).unwrap()[0].1.to_string() == "10.0.0.2:3000");
        let both = routes(&entries, &origins).unwrap_err();
        assert!(both.contains("10.0.0.1") && both.contains("10.0.0.2"), "{both}");
        assert!(routes(&entries, &["https://other.test"]).unwrap().is_empty());
        let wrong_port = unmatched_resolve(
            &[entry("karigar.test:443:10.0.0.1")],
            &["https://karigar.test:8443"],
        );
        assert!(wrong_port
            .unwrap_err()
            .contains("--resolve karigar.test:443:10.0.0.1 is for another port than 8443"));
        assert!(unmatched_resolve(&entries, &origins).is_ok());
        assert!(
            unmatched_resolve(&entries, &origins[..1]).is_ok(),
            "an entry for another port beside one for this port"
        );
        assert!(
            unmatched_resolve(&entries, &["https://elsewhere.test"]).is_ok(),
            "another host's entry is left"
        );
        // The flag's entry for a host and port beats the table's; other ports stay.
        let flags = HttpOptions {
            resolve: vec![entry("karigar.test:443:10.0.0.9")],
            ..Default::default()
        };
        let table = HttpOptions {
            resolve: entries.to_vec(),
            ..Default::default()
        };
        assert_eq!(
            flags.over(table).resolve,
            [
                entry("karigar.test:443:10.0.0.9"),
                entry("karigar.test:3000:10.0.0.2")
            ]
        );
    }

    #[test]
    fn resolve_entries_parse_as_curl_writes_them() {
        assert_eq!(
            parse_resolve("Karigar.test:443:127.0.0.1").unwrap(),
            Resolve {
                host: "karigar.test".into(),
                port: 443,
                addr: "127.0.0.1".parse().unwrap()
            }
        );
        assert_eq!(
            parse_resolve("h:8443:[::1]").unwrap().addr,
            "::1".parse::<IpAddr>().unwrap()
        );
        for bad in ["h:443", "h:x:127.0.0.1", ":443:127.0.0.1", "h:443:nowhere"] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
    }
}
