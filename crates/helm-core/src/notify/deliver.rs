//! Sending what the outbox holds: oldest first, one fingerprint's events in order on each
//! channel (a resolve never overtakes its trigger), 429/5xx/network errors retried with
//! backoff that honours `Retry-After`, other 4xx moved to `failed/`, and a file removed
//! only after its channel took it.

use super::outbox::{Entry, Outbox};
use super::{Channel, Retry};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::error::Result;
use crate::ports::{Notifier, SendError};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::time::Duration;

/// What a delivery pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    pub sent: Vec<Entry>,
    /// Moved to `failed/`, with the reason.
    pub refused: Vec<(Entry, String)>,
    /// Still in the outbox, with why.
    pub waiting: Vec<(Entry, String)>,
    /// Sends retried within this pass.
    pub retries: u32,
    /// Another process was delivering: it sends what is queued.
    pub busy: bool,
}

impl Delivery {
    /// `2 sent, 1 waiting (slack-ops: HTTP 503)`.
    pub fn line(&self) -> String {
        let mut parts = vec![format!("{} sent", self.sent.len())];
        if !self.refused.is_empty() {
            parts.push(format!("{} refused", self.refused.len()));
        }
        if !self.waiting.is_empty() {
            let first = &self.waiting[0];
            parts.push(format!(
                "{} waiting ({}: {})",
                self.waiting.len(),
                first.0.channel,
                first.1
            ));
        }
        if self.busy {
            parts.push("another process is sending".into());
        }
        parts.join(", ")
    }
}

/// Deliver every pending event. `sleep` waits between attempts (tests pass a recorder).
pub fn deliver<N: Notifier>(
    outbox: &Outbox,
    notifier: &N,
    channels: &[Channel],
    retry: &Retry,
    sleep: &mut dyn FnMut(Duration),
    now: DateTime<Utc>,
) -> Result<Delivery> {
    let mut out = Delivery::default();
    // Nothing was ever queued: no file is touched (a project without channels stays as it was).
    if !outbox.pending_dir().exists() {
        return Ok(out);
    }
    let Some(_lock) = outbox.try_delivery_lock()? else {
        out.busy = true;
        return Ok(out);
    };
    // (channel, fingerprint) pairs held back: a later event waits for an earlier one.
    let mut held: HashSet<(String, String)> = HashSet::new();
    // Channels that stopped answering this pass: their other events wait too.
    let mut down: HashSet<String> = HashSet::new();
    for mut entry in outbox.pending()? {
        let key = (entry.channel.clone(), entry.event.fingerprint.clone());
        if held.contains(&key) {
            out.waiting
                .push((entry, "waits for an earlier event of the same issue".into()));
            continue;
        }
        if down.contains(&entry.channel) {
            held.insert(key);
            out.waiting
                .push((entry, "the channel did not answer this run".into()));
            continue;
        }
        if let Some(t) = entry.next_attempt_at.as_deref().and_then(parse_rfc3339)
            && t > now
        {
            held.insert(key);
            let why = format!("the service asked to wait until {}", rfc3339(t));
            out.waiting.push((entry, why));
            continue;
        }
        let Some(channel) = channels.iter().find(|c| c.name == entry.channel) else {
            held.insert(key);
            let why = format!(
                "no [notifications.{}] table in monitoring.toml",
                entry.channel
            );
            entry.last_error = Some(why.clone());
            outbox.postponed(&entry)?;
            out.waiting.push((entry, why));
            continue;
        };
        let mut n = 0;
        loop {
            n += 1;
            entry.attempts += 1;
            match notifier.send(channel, &entry.event) {
                Ok(()) => {
                    outbox.delivered(&entry)?;
                    out.sent.push(entry);
                    break;
                }
                Err(SendError::Rejected { status, reason }) => {
                    let why = format!("HTTP {status}: {reason}");
                    outbox.refused(&entry, &why)?;
                    out.refused.push((entry, why));
                    break;
                }
                Err(SendError::NotConfigured { reason }) => {
                    entry.last_error = Some(reason.clone());
                    entry.attempts -= 1; // nothing was sent
                    outbox.postponed(&entry)?;
                    held.insert(key);
                    down.insert(channel.name.clone());
                    out.waiting.push((entry, reason));
                    break;
                }
                Err(SendError::Retry { reason, after }) => {
                    let wait = retry.wait(n, after);
                    if n < retry.attempts
                        && let Some(w) = wait
                    {
                        out.retries += 1;
                        sleep(w);
                        continue;
                    }
                    entry.last_error = Some(reason.clone());
                    entry.next_attempt_at = match (wait, after) {
                        (None, Some(a)) => Some(rfc3339(
                            now + chrono::Duration::from_std(a).unwrap_or_default(),
                        )),
                        _ => None,
                    };
                    outbox.postponed(&entry)?;
                    held.insert(key);
                    down.insert(channel.name.clone());
                    out.waiting.push((entry, reason));
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{ChannelKind, Event};
    use std::cell::RefCell;

    /// A notifier that answers from a script per channel and records what it was sent.
    struct Scripted {
        answers: RefCell<Vec<(String, Result<(), SendError>)>>,
        seen: RefCell<Vec<(String, String)>>,
    }

    impl Notifier for Scripted {
        fn send(&self, channel: &Channel, event: &Event) -> std::result::Result<(), SendError> {
            self.seen
                .borrow_mut()
                .push((channel.name.clone(), event.event_id.clone()));
            let mut a = self.answers.borrow_mut();
            match a.iter().position(|(c, _)| c == &channel.name) {
                Some(i) => a.remove(i).1,
                None => Ok(()),
            }
        }
    }

    fn channel(name: &str) -> Channel {
        Channel {
            name: name.into(),
            kind: ChannelKind::Webhook,
            url_env: Some("U".into()),
            routing_key_env: None,
            secret_env: None,
            min_severity: None,
            environments: vec![],
            eu: false,
        }
    }

    fn now() -> DateTime<Utc> {
        parse_rfc3339("2026-12-01T11:00:00Z").unwrap()
    }

    fn event(fp: &str, salt: &str) -> Event {
        let mut e = Event::test("x", "infrastructure", "2026-12-01T11:00:00Z");
        e.fingerprint = fp.into();
        e.event_id = salt.into();
        e
    }

    fn retry() -> Retry {
        Retry {
            attempts: 3,
            delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(60),
        }
    }

    fn retryable() -> Result<(), SendError> {
        Err(SendError::Retry {
            reason: "HTTP 503".into(),
            after: None,
        })
    }

    #[test]
    fn retries_with_backoff_then_waits_in_order_and_delivers_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let ob = Outbox::new(dir.path());
        ob.enqueue("a", event("prod/api/x", "1"), None, "t")
            .unwrap();
        ob.enqueue("a", event("prod/api/x", "2"), None, "t")
            .unwrap();
        ob.enqueue("b", event("prod/db/y", "3"), None, "t").unwrap();
        let n = Scripted {
            answers: RefCell::new(vec![
                ("a".into(), retryable()),
                ("a".into(), retryable()),
                ("a".into(), retryable()),
            ]),
            seen: RefCell::default(),
        };
        let mut slept = Vec::new();
        let d = deliver(
            &ob,
            &n,
            &[channel("a"), channel("b")],
            &retry(),
            &mut |w| slept.push(w),
            now(),
        )
        .unwrap();
        assert_eq!(
            slept,
            vec![Duration::from_secs(10), Duration::from_secs(20)]
        );
        assert_eq!(d.retries, 2);
        assert_eq!(d.sent.len(), 1, "b is not held back by a: {d:?}");
        assert_eq!(d.waiting.len(), 2);
        // The second event of the same issue was never tried before the first.
        assert_eq!(n.seen.borrow().iter().filter(|s| s.1 == "2").count(), 0);
        let pending = ob.pending().unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].attempts, 3);
        assert_eq!(pending[0].last_error.as_deref(), Some("HTTP 503"));
        // The service is back: both go, first then second.
        let d2 = deliver(
            &ob,
            &n,
            &[channel("a"), channel("b")],
            &retry(),
            &mut |_| {},
            now(),
        )
        .unwrap();
        assert_eq!(
            d2.sent
                .iter()
                .map(|e| e.event.event_id.clone())
                .collect::<Vec<_>>(),
            vec!["1", "2"]
        );
        assert!(ob.pending().unwrap().is_empty());
    }

    #[test]
    fn retry_after_longer_than_the_cap_waits_for_a_later_run() {
        let dir = tempfile::tempdir().unwrap();
        let ob = Outbox::new(dir.path());
        ob.enqueue("a", event("prod/api/x", "1"), None, "t")
            .unwrap();
        let n = Scripted {
            answers: RefCell::new(vec![(
                "a".into(),
                Err(SendError::Retry {
                    reason: "HTTP 429".into(),
                    after: Some(Duration::from_secs(300)),
                }),
            )]),
            seen: RefCell::default(),
        };
        let mut slept = Vec::new();
        let d = deliver(
            &ob,
            &n,
            &[channel("a")],
            &retry(),
            &mut |w| slept.push(w),
            now(),
        )
        .unwrap();
        assert!(slept.is_empty());
        assert_eq!(d.waiting.len(), 1);
        assert_eq!(
            ob.pending().unwrap()[0].next_attempt_at.as_deref(),
            Some("2026-12-01T11:05:00Z")
        );
        let early = deliver(&ob, &n, &[channel("a")], &retry(), &mut |_| {}, now()).unwrap();
        assert!(early.sent.is_empty() && n.seen.borrow().len() == 1);
        let later = now() + chrono::Duration::minutes(6);
        let d = deliver(&ob, &n, &[channel("a")], &retry(), &mut |_| {}, later).unwrap();
        assert_eq!(d.sent.len(), 1);
    }

    #[test]
    fn a_rejection_goes_to_failed_and_is_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let ob = Outbox::new(dir.path());
        ob.enqueue("a", event("prod/api/x", "1"), None, "t")
            .unwrap();
        let n = Scripted {
            answers: RefCell::new(vec![(
                "a".into(),
                Err(SendError::Rejected {
                    status: 400,
                    reason: "invalid event".into(),
                }),
            )]),
            seen: RefCell::default(),
        };
        let d = deliver(&ob, &n, &[channel("a")], &retry(), &mut |_| {}, now()).unwrap();
        assert_eq!(d.refused.len(), 1);
        assert!(ob.pending().unwrap().is_empty());
        let failed = ob.failed().unwrap();
        assert_eq!(
            failed[0].last_error.as_deref(),
            Some("HTTP 400: invalid event")
        );
        assert_eq!(n.seen.borrow().len(), 1);
    }

    #[test]
    fn an_unconfigured_channel_keeps_its_events() {
        let dir = tempfile::tempdir().unwrap();
        let ob = Outbox::new(dir.path());
        ob.enqueue("gone", event("prod/api/x", "1"), None, "t")
            .unwrap();
        let n = Scripted {
            answers: RefCell::default(),
            seen: RefCell::default(),
        };
        let d = deliver(&ob, &n, &[], &retry(), &mut |_| {}, now()).unwrap();
        assert!(d.waiting[0].1.contains("[notifications.gone]"));
        assert_eq!(ob.pending().unwrap().len(), 1);
    }
}
