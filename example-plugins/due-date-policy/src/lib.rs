//! A hook that rejects urgent tasks without a due date, and due dates that are not real dates.

use bazaar_sdk::{Error, Plugin, Task};

/// The policy: `Err` with a message a person can act on, or `Ok`.
pub fn check(labels: &[String], due_date: Option<&str>) -> Result<(), String> {
    if let Some(date) = due_date {
        let parts: Vec<u32> = date.split('-').filter_map(|p| p.parse().ok()).collect();
        let valid = matches!(parts.as_slice(), [y, m, d] if *y >= 2000 && (1..=12).contains(m) && (1..=31).contains(d));
        if !valid {
            return Err(format!("due date `{date}` is not a date like 2026-12-31"));
        }
    }
    if labels.iter().any(|l| l == "urgent") && due_date.is_none() {
        return Err("urgent tasks need a due date".into());
    }
    Ok(())
}

struct DueDatePolicy;

impl Plugin for DueDatePolicy {
    fn validate_task(task: Task) -> Result<(), Error> {
        check(&task.labels, task.due_date.as_deref()).map_err(Error::Invalid)
    }
}

bazaar_sdk::export_plugin!(DueDatePolicy);

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn urgent_needs_a_date_and_dates_must_be_real() {
        let urgent = vec!["urgent".to_owned()];
        assert!(check(&urgent, None).unwrap_err().contains("urgent"));
        assert!(check(&urgent, Some("2026-12-31")).is_ok());
        assert!(check(&[], Some("2026-13-01")).is_err());
        assert!(check(&[], Some("soon")).is_err());
        assert!(check(&[], None).is_ok());
    }
}
