//! Prometheus remote write (protocol 1.0): the run's families as a snappy-compressed
//! protobuf `WriteRequest`, pushed every few seconds while the load runs and once
//! more at its end. The message is small and fixed, so it is encoded by hand rather
//! than through generated code.

use std::time::Duration;

use super::families::{families, run_labels};
use super::state::State;
use crate::error::{Error, Result};

/// A receiver slower than this is skipped for the push.
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// One labelled value at one instant.
struct Series {
    labels: Vec<(String, String)>,
    value: f64,
}

/// The state's families as series: `__name__` first, then the labels sorted by name,
/// as the protocol asks.
fn series(state: &State) -> Vec<Series> {
    let run = run_labels(state);
    let mut out = Vec::new();
    for family in families(state) {
        for point in family.samples {
            let mut labels: Vec<(String, String)> = run
                .iter()
                .chain(&point.labels)
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            labels.push(("job".into(), "karigar-perf".into()));
            labels.push(("__name__".into(), format!("{}{}", family.name, point.suffix)));
            labels.sort();
            out.push(Series {
                labels,
                value: point.value,
            });
        }
    }
    out
}

/// The `WriteRequest` for every series at `timestamp_ms`, uncompressed.
fn encode(series: &[Series], timestamp_ms: i64) -> Vec<u8> {
    let mut request = Vec::new();
    for one in series {
        let mut timeseries = Vec::new();
        for (name, value) in &one.labels {
            let mut label = Vec::new();
            field_bytes(&mut label, 1, name.as_bytes());
            field_bytes(&mut label, 2, value.as_bytes());
            field_bytes(&mut timeseries, 1, &label);
        }
        let mut sample = Vec::new();
        sample.push(0x09); // field 1, 64-bit: the value
        sample.extend_from_slice(&one.value.to_le_bytes());
        sample.push(0x10); // field 2, varint: the timestamp
        varint(&mut sample, timestamp_ms as u64);
        field_bytes(&mut timeseries, 2, &sample);
        field_bytes(&mut request, 1, &timeseries);
    }
    request
}

fn field_bytes(out: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    out.push((field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The state as it is now, as a compressed `WriteRequest` stamped with the time.
pub fn body(state: &State) -> Result<Vec<u8>> {
    let timestamp_ms = chrono::Utc::now().timestamp_millis();
    snap::raw::Encoder::new()
        .compress_vec(&encode(&series(state), timestamp_ms))
        .map_err(|e| Error::Internal(e.into()))
}

/// Pushes a [`body`] to `url`.
pub async fn send(client: &reqwest::Client, url: &str, body: Result<Vec<u8>>) -> Result<()> {
    let response = client
        .post(url)
        .timeout(PUSH_TIMEOUT)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body?)
        .send()
        .await
        .map_err(|e| {
            Error::stack(format!(
                "remote write to {url}: {}",
                crate::error::error_chain(&e)
            ))
        })?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        return Err(Error::stack(format!(
            "remote write to {url}: {status}: {}",
            crate::metrics::sanitise(text.as_bytes())
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_fields_follow_the_protobuf_wire_format() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        let mut field = Vec::new();
        field_bytes(&mut field, 2, b"ab");
        assert_eq!(field, [0x12, 2, b'a', b'b']);
    }

    #[test]
    fn a_series_encodes_its_labels_then_one_sample() {
        let series = [Series {
            labels: vec![("__name__".into(), "up".into())],
            value: 1.0,
        }];
        let bytes = encode(&series, 1);
        let label = [
            0x0a, 8, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_', 0x12, 2, b'u', b'p',
        ];
        let mut expected_ts = vec![0x0a, label.len() as u8];
        expected_ts.extend_from_slice(&label);
        expected_ts.extend_from_slice(&[0x12, 11, 0x09]);
        expected_ts.extend_from_slice(&1.0f64.to_le_bytes());
        expected_ts.extend_from_slice(&[0x10, 1]);
        let mut expected = vec![0x0a, expected_ts.len() as u8];
        expected.extend_from_slice(&expected_ts);
        assert_eq!(bytes, expected);
    }
}
