//! Trends and anomalies over a series (`performance`): robust statistics, so one spike does
//! not hide another. A point is anomalous when it is far from the median by the median
//! absolute deviation (MAD), the usual robust z-score.

/// The median of `values` (None when empty).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Median absolute deviation.
pub fn mad(values: &[f64]) -> Option<f64> {
    let m = median(values)?;
    median(&values.iter().map(|v| (v - m).abs()).collect::<Vec<_>>())
}

/// The robust z-score threshold above which a point is an anomaly (Iglewicz and Hoaglin).
pub const ANOMALY_Z: f64 = 3.5;

/// Indices of anomalous points: modified z-score 0.6745·|x − median| / MAD above
/// `ANOMALY_Z`. When MAD is 0 (a flat series), any point off the median is anomalous if it
/// differs from it by more than 10% of the median (or by anything, for a zero median).
pub fn anomalies(values: &[f64]) -> Vec<usize> {
    let (Some(m), Some(d)) = (median(values), mad(values)) else {
        return Vec::new();
    };
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| {
            if d > 0.0 {
                0.6745 * (*v - m).abs() / d > ANOMALY_Z
            } else {
                let tolerance = (m.abs() * 0.1).max(f64::EPSILON);
                (*v - m).abs() > tolerance
            }
        })
        .map(|(i, _)| i)
        .collect()
}

/// The direction of a series: compares the mean of its last third with its first third.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Rising,
    Falling,
    Flat,
}

/// (first-third mean, last-third mean, direction): a change of more than 20% (and more than
/// a small absolute amount) counts as a trend.
pub fn direction(values: &[f64]) -> Option<(f64, f64, Direction)> {
    if values.len() < 3 {
        return None;
    }
    let third = values.len() / 3;
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let (first, last) = (
        mean(&values[..third]),
        mean(&values[values.len() - third..]),
    );
    let change = last - first;
    let scale = first.abs().max(last.abs());
    let dir = if scale == 0.0 || change.abs() <= 0.2 * scale {
        Direction::Flat
    } else if change > 0.0 {
        Direction::Rising
    } else {
        Direction::Falling
    };
    Some((first, last, dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(mad(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]), Some(1.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn a_spike_is_an_anomaly_and_noise_is_not() {
        let mut v = vec![0.5, 0.6, 0.4, 0.5, 0.55, 0.45, 0.5, 0.6, 0.4, 0.5];
        assert!(anomalies(&v).is_empty());
        v[7] = 2.0;
        assert_eq!(anomalies(&v), vec![7]);
        let flat = [0.0, 0.0, 0.0, 5.0, 0.0];
        assert_eq!(anomalies(&flat), vec![3]);
    }

    #[test]
    fn direction_compares_thirds() {
        assert_eq!(
            direction(&[0.5, 0.5, 0.5, 1.0, 2.0, 2.0]).unwrap().2,
            Direction::Rising
        );
        assert_eq!(
            direction(&[2.0, 2.0, 1.0, 1.0, 0.5, 0.5]).unwrap().2,
            Direction::Falling
        );
        assert_eq!(
            direction(&[1.0, 1.1, 0.9, 1.0, 1.05, 1.0]).unwrap().2,
            Direction::Flat
        );
        assert!(direction(&[1.0]).is_none());
    }
}
