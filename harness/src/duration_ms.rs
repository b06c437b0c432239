//! Serialising durations as milliseconds (a float, microsecond precision) in JSON reports, so the
//! numbers a README quotes read as `2103.4`, not `{"secs": 2, "nanos": 103400000}`.

use std::time::Duration;

use serde::ser::{SerializeSeq, Serializer};

fn ms(duration: &Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

/// `#[serde(serialize_with = "crate::duration_ms::one")]`.
pub fn one<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(ms(duration))
}

/// For `Option<Duration>`: `null` or milliseconds.
pub fn optional<S: Serializer>(duration: &Option<Duration>, serializer: S) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.serialize_some(&ms(duration)),
        None => serializer.serialize_none(),
    }
}

/// For `Vec<(String, Duration)>` timelines: `[["+sdown", 2047.1], ...]`.
pub fn named<S: Serializer>(events: &[(String, Duration)], serializer: S) -> Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(events.len()))?;
    for (name, at) in events {
        seq.serialize_element(&(name, ms(at)))?;
    }
    seq.end()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[derive(serde::Serialize)]
    struct Sample {
        #[serde(serialize_with = "super::one")]
        at: Duration,
        #[serde(serialize_with = "super::optional")]
        gap: Option<Duration>,
        #[serde(serialize_with = "super::optional")]
        none: Option<Duration>,
        #[serde(serialize_with = "super::named")]
        timeline: Vec<(String, Duration)>,
    }

    #[test]
    fn durations_become_milliseconds() {
        let sample = Sample {
            at: Duration::from_micros(2_103_400),
            gap: Some(Duration::from_millis(5)),
            none: None,
            timeline: vec![("+sdown".into(), Duration::from_millis(2047))],
        };
        assert_eq!(
            serde_json::to_value(&sample).unwrap(),
            serde_json::json!({"at": 2103.4, "gap": 5.0, "none": null, "timeline": [["+sdown", 2047.0]]})
        );
    }
}
