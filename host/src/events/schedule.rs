//! When to try a failed delivery again.

use std::time::Duration;

use rand::Rng;

/// The longest a receiver's `Retry-After` may push an attempt back.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The waits between attempts (from the configuration), jittered by ±20%.
#[derive(Debug, Clone)]
pub struct RetrySchedule {
    waits: Vec<Duration>,
}

impl RetrySchedule {
    pub fn new(secs: &[f64]) -> Self {
        RetrySchedule {
            waits: secs.iter().map(|s| Duration::from_secs_f64(*s)).collect(),
        }
    }

    /// How many attempts a delivery gets in all.
    pub fn attempts(&self) -> usize {
        self.waits.len() + 1
    }

    /// The wait before the retry after `step` failures so far (0-based), or `None` when the
    /// schedule is spent and the delivery is dead. A `Retry-After` longer than the schedule's
    /// wait wins, up to a day.
    pub fn next_wait(&self, step: usize, retry_after: Option<Duration>) -> Option<Duration> {
        let base = *self.waits.get(step)?;
        let jittered = base.mul_f64(rand::thread_rng().gen_range(0.8..1.2));
        Some(match retry_after {
            Some(asked) => jittered.max(asked.min(MAX_RETRY_AFTER)),
            None => jittered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_is_jittered_and_ends() {
        let schedule = RetrySchedule::new(&crate::config::DeliveryConfig::default().retry_schedule_secs);
        assert_eq!(schedule.attempts(), 8);
        let first = schedule.next_wait(0, None).unwrap();
        assert!((4.0..=6.0).contains(&first.as_secs_f64()), "{first:?}");
        let second = schedule.next_wait(1, None).unwrap();
        assert!((240..=360).contains(&second.as_secs()), "{second:?}");
        assert!(
            schedule.next_wait(7, None).is_none(),
            "after the last wait comes the dead letter"
        );
    }

    #[test]
    fn retry_after_lengthens_but_never_shortens_nor_exceeds_a_day() {
        let schedule = RetrySchedule::new(&[10.0]);
        let longer = schedule.next_wait(0, Some(Duration::from_secs(120))).unwrap();
        assert_eq!(longer, Duration::from_secs(120));
        let shorter = schedule.next_wait(0, Some(Duration::from_secs(1))).unwrap();
        assert!(shorter >= Duration::from_secs(8));
        let huge = schedule
            .next_wait(0, Some(Duration::from_secs(10 * 86400)))
            .unwrap();
        assert_eq!(huge, MAX_RETRY_AFTER);
    }
}
