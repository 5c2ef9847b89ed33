//! How measurements are written down without losing anything: each histogram in the
//! HdrHistogram V2 format compressed with DEFLATE (what every HdrHistogram library
//! reads), base64 inside JSON; durations as whole microseconds.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::measurements::Interval;
use super::outcome::OutcomeCounts;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

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

    pub fn serialize<S: serde::Serializer>(h: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(encode(h)))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = BASE64.decode(text).map_err(serde::de::Error::custom)?;
        decode(&bytes).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with)]` for a duration as whole microseconds.
pub(super) mod micros {
    use std::time::Duration;

    use serde::Deserialize;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_micros() as u64)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_micros)
    }
}

/// An [`Interval`] as written: its figures are derived again when it is read.
#[derive(Serialize, Deserialize)]
pub(super) struct IntervalWire {
    second: u64,
    outcomes: OutcomeCounts,
    latency: String,
}

impl From<Interval> for IntervalWire {
    fn from(interval: Interval) -> Self {
        Self {
            second: interval.second,
            outcomes: interval.outcomes,
            latency: BASE64.encode(&interval.encoded),
        }
    }
}

impl TryFrom<IntervalWire> for Interval {
    type Error = String;

    fn try_from(wire: IntervalWire) -> Result<Self, String> {
        let bytes = BASE64
            .decode(wire.latency)
            .map_err(|e| format!("second {}: {e}", wire.second))?;
        let latency = decode(&bytes).map_err(|e| format!("second {}: {e}", wire.second))?;
        Ok(Interval::new(wire.second, wire.outcomes, &latency))
    }
}
