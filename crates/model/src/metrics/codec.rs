//! How measurements are written down without losing anything: each histogram in the
//! HdrHistogram V2 format compressed with DEFLATE (what every HdrHistogram library
//! reads), base64 inside JSON; durations as whole microseconds.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::Deserialize;

pub(super) const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A histogram in HDR V2 + DEFLATE.
pub(super) fn encode(histogram: &Histogram<u64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .expect("writing to memory cannot fail");
    bytes
}

/// Reads what [`encode`] wrote, ready to grow again when added to.
pub(super) fn decode(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    let mut histogram: Histogram<u64> = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("not an HDR V2 histogram: {e:?}"))?;
    histogram.auto(true);
    Ok(histogram)
}

/// `#[serde(with)]` for a histogram field: base64 of HDR V2 + DEFLATE.
pub(super) mod histogram {
    use super::*;

    pub(crate) fn serialize<S: serde::Serializer>(h: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(encode(h)))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = BASE64.decode(text).map_err(serde::de::Error::custom)?;
        decode(&bytes).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with)]` for a duration as whole microseconds.
pub(super) mod micros {
    use std::time::Duration;

    use serde::Deserialize;

    pub(crate) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_micros() as u64)
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_micros)
    }
}
