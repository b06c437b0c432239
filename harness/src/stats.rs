//! Order statistics for benchmark tables: median and p95 by the nearest-rank method (the value at
//! rank ⌈p·n⌉ of the sorted sample), which always reports a value that was actually measured.

/// The nearest-rank `percentile` (0 < p ≤ 100) of `samples`; `None` for an empty sample or a
/// percentile out of range.
pub fn nearest_rank<T: Copy + PartialOrd>(samples: &[T], percentile: f64) -> Option<T> {
    if samples.is_empty() || !(percentile > 0.0 && percentile <= 100.0) {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    // Rounded before ceil so that e.g. 0.95 * 20 = 19.000000000000004 does not become rank 20.
    let exact = percentile / 100.0 * sorted.len() as f64;
    let rank = ((exact * 1e9).round() / 1e9).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// The nearest-rank median (the lower middle value for an even count).
pub fn median<T: Copy + PartialOrd>(samples: &[T]) -> Option<T> {
    nearest_rank(samples, 50.0)
}

/// The nearest-rank 95th percentile.
pub fn p95<T: Copy + PartialOrd>(samples: &[T]) -> Option<T> {
    nearest_rank(samples, 95.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sample_has_no_statistics() {
        assert_eq!(median::<u32>(&[]), None);
        assert_eq!(p95::<u32>(&[]), None);
    }

    #[test]
    fn single_value_is_every_percentile() {
        assert_eq!(median(&[7]), Some(7));
        assert_eq!(p95(&[7]), Some(7));
    }

    #[test]
    fn median_uses_nearest_rank() {
        assert_eq!(median(&[5, 1, 3]), Some(3));
        // Even count: rank ceil(0.5 * 4) = 2 → the lower middle value.
        assert_eq!(median(&[4, 1, 3, 2]), Some(2));
    }

    #[test]
    fn p95_uses_nearest_rank() {
        let twenty: Vec<u32> = (1..=20).collect();
        // ceil(0.95 * 20) = 19, not 20 despite floating-point error.
        assert_eq!(p95(&twenty), Some(19));
        let ten: Vec<u32> = (1..=10).collect();
        // ceil(9.5) = 10.
        assert_eq!(p95(&ten), Some(10));
        assert_eq!(p95(&[2.5, 1.0, 9.0]), Some(9.0));
    }

    #[test]
    fn percentile_out_of_range_is_rejected() {
        assert_eq!(nearest_rank(&[1, 2], 0.0), None);
        assert_eq!(nearest_rank(&[1, 2], 101.0), None);
        assert_eq!(nearest_rank(&[1, 2], 100.0), Some(2));
    }
}
