//! The lease that keeps one `watch` active among replicas. The lease is one object:
//! created with `If-None-Match: *`, renewed with `If-Match: <etag>`, released with a
//! conditional delete, and it carries its own expiry. A replica takes over only when the
//! expiry has passed by more than the clock-skew margin, and only with `If-Match` on the
//! expired record, so of two replicas that both see it expired exactly one wins.
//!
//! What Terraform's S3 lock file lacks and this has: an expiry (a dead holder's lease ends
//! on its own), and a release that deletes only the holder's own version (a holder that
//! lost the lease cannot delete its successor's).

use super::{Cond, ObjectStore, Written};
use crate::ports::Failure;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The lease object's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// Who holds it: host, process and a random tag (`host:1234:9f2c`).
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub renewed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// 1 for the first holder, +1 for each take-over (a fencing number).
    pub generation: u64,
}

/// A lease this process holds: its record and the version it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub record: LeaseRecord,
    pub etag: String,
}

/// What an attempt to take the lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// It is ours now.
    Taken {
        held: Held,
        /// The holder it was taken from after its lease expired (None: it was free).
        from: Option<LeaseRecord>,
    },
    /// Another replica holds it (the record as last read; None when it changed between our
    /// read and our write).
    Busy(Option<LeaseRecord>),
}

/// How long a lease lasts and how much clock skew between replicas it allows for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub ttl: Duration,
    pub skew: Duration,
}

impl Terms {
    /// A lease of `ttl` with a skew margin of a tenth of it (at least 1 s, at most 30 s).
    pub fn new(ttl: Duration) -> Terms {
        let skew = (ttl / 10).clamp(Duration::from_secs(1), Duration::from_secs(30));
        Terms { ttl, skew }
    }

    /// How often the holder renews, and a stand-by replica looks again.
    pub fn renew_every(&self) -> Duration {
        self.ttl / 3
    }

    fn ttl(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::MAX)
    }

    fn skew(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.skew).unwrap_or(chrono::Duration::MAX)
    }
}

/// Whether a replica whose clock says `now` may take over `record`: only once its expiry
/// has passed by more than the skew margin, so a holder whose clock runs up to `skew`
/// behind is not overtaken while it still believes it holds the lease.
pub fn expired(record: &LeaseRecord, now: DateTime<Utc>, terms: &Terms) -> bool {
    now > record.expires_at + terms.skew()
}

/// Whether the holder may still act at `now`: its lease has not expired by its own clock.
/// A holder that could not renew in time stops acting before anyone may take over.
pub fn still_ours(held: &Held, now: DateTime<Utc>) -> bool {
    now < held.record.expires_at
}

fn encode(record: &LeaseRecord) -> Vec<u8> {
    (serde_json::to_string_pretty(record).expect("a lease serialises") + "\n").into_bytes()
}

/// Try to take the lease at `key` for `holder`.
pub async fn try_take<S: ObjectStore + ?Sized>(
    store: &S,
    key: &str,
    holder: &str,
    now: DateTime<Utc>,
    terms: &Terms,
) -> Result<Attempt, Failure> {
    let fresh = |generation: u64| LeaseRecord {
        holder: holder.to_string(),
        acquired_at: now,
        renewed_at: now,
        expires_at: now + terms.ttl(),
        generation,
    };
    let current = store.get(key).await?;
    let (record, cond, from) = match &current {
        None => (fresh(1), Cond::Absent, None),
        Some(v) => match serde_json::from_slice::<LeaseRecord>(&v.bytes) {
            Ok(r) if r.holder == holder => (
                // Ours already (a renewal that raced with its own answer): renew it.
                LeaseRecord {
                    renewed_at: now,
                    expires_at: now + terms.ttl(),
                    ..r.clone()
                },
                Cond::Matches(v.etag.clone()),
                None,
            ),
            Ok(r) if !expired(&r, now, terms) => return Ok(Attempt::Busy(Some(r))),
            Ok(r) => (
                fresh(r.generation + 1),
                Cond::Matches(v.etag.clone()),
                Some(r),
            ),
            // An unreadable lease object holds nobody; it is replaced on its version, so of
            // two replicas that find it so, one wins.
            Err(_) => (fresh(1), Cond::Matches(v.etag.clone()), None),
        },
    };
    match store.put(key, encode(&record), cond).await? {
        Written::Done(etag) => Ok(Attempt::Taken {
            held: Held { record, etag },
            from,
        }),
        Written::Conflict => Ok(Attempt::Busy(None)),
    }
}

/// Renew a held lease. Ok(None): it is no longer ours (another replica took it after it
/// expired, or it was deleted); stop acting at once.
pub async fn renew<S: ObjectStore + ?Sized>(
    store: &S,
    key: &str,
    held: &Held,
    now: DateTime<Utc>,
    terms: &Terms,
) -> Result<Option<Held>, Failure> {
    let record = LeaseRecord {
        renewed_at: now,
        expires_at: now + terms.ttl(),
        ..held.record.clone()
    };
    match store
        .put(key, encode(&record), Cond::Matches(held.etag.clone()))
        .await?
    {
        Written::Done(etag) => Ok(Some(Held { record, etag })),
        Written::Conflict => Ok(None),
    }
}

/// Give the lease up: deletes it only if it is still at our version (a holder that lost
/// the lease cannot delete its successor's). Returns whether it was ours to delete.
pub async fn release<S: ObjectStore + ?Sized>(
    store: &S,
    key: &str,
    held: &Held,
) -> Result<bool, Failure> {
    Ok(matches!(
        store.delete(key, &held.etag).await?,
        Written::Done(_)
    ))
}

/// A holder id for this process: host, pid and a random tag.
pub fn holder_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".into());
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("{host}:{}:{:04x}", std::process::id(), h.finish() & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::super::local::LocalStore;
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }

    fn terms() -> Terms {
        Terms::new(Duration::from_secs(30))
    }

    #[test]
    fn the_skew_margin_is_a_tenth_of_the_lease_within_bounds() {
        assert_eq!(terms().skew, Duration::from_secs(3));
        assert_eq!(
            Terms::new(Duration::from_secs(2)).skew,
            Duration::from_secs(1)
        );
        assert_eq!(
            Terms::new(Duration::from_secs(3600)).skew,
            Duration::from_secs(30)
        );
        assert_eq!(terms().renew_every(), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_free_lease_is_taken_a_held_one_is_busy_until_expiry_and_skew_have_passed() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let Attempt::Taken {
            held: a,
            from: None,
        } = try_take(&store, "lease", "a", t(0), &terms())
            .await
            .unwrap()
        else {
            panic!("a free lease is taken")
        };
        assert_eq!(a.record.generation, 1);
        assert_eq!(a.record.expires_at, t(30));
        // b sees it held up to expiry + skew (30 + 3 s).
        for s in [0, 29, 30, 33] {
            let got = try_take(&store, "lease", "b", t(s), &terms())
                .await
                .unwrap();
            assert!(
                matches!(got, Attempt::Busy(Some(ref r)) if r.holder == "a"),
                "at {s}: {got:?}"
            );
        }
        // a renews at 20: the expiry moves to 50, so b must wait again.
        let a = renew(&store, "lease", &a, t(20), &terms())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.record.expires_at, t(50));
        assert!(matches!(
            try_take(&store, "lease", "b", t(40), &terms())
                .await
                .unwrap(),
            Attempt::Busy(Some(_))
        ));
        // a dies; at 54 b takes over, with the next generation.
        let Attempt::Taken {
            held: b,
            from: Some(prev),
        } = try_take(&store, "lease", "b", t(54), &terms())
            .await
            .unwrap()
        else {
            panic!("an expired lease is taken over")
        };
        assert_eq!((prev.holder.as_str(), b.record.generation), ("a", 2));
        // a comes back: its renewal and its release both fail, and b's lease stands.
        assert_eq!(
            renew(&store, "lease", &a, t(55), &terms()).await.unwrap(),
            None
        );
        assert!(!release(&store, "lease", &a).await.unwrap());
        assert!(matches!(
            try_take(&store, "lease", "a", t(56), &terms()).await.unwrap(),
            Attempt::Busy(Some(ref r)) if r.holder == "b"
        ));
        // b releases: the object is gone and the next replica takes it at once.
        assert!(release(&store, "lease", &b).await.unwrap());
        assert!(store.get("lease").await.unwrap().is_none());
        assert!(matches!(
            try_take(&store, "lease", "c", t(57), &terms())
                .await
                .unwrap(),
            Attempt::Taken { from: None, .. }
        ));
    }

    #[test]
    fn a_holder_stops_acting_at_its_own_expiry_before_anyone_may_take_over() {
        let held = Held {
            record: LeaseRecord {
                holder: "a".into(),
                acquired_at: t(0),
                renewed_at: t(0),
                expires_at: t(30),
                generation: 1,
            },
            etag: "x".into(),
        };
        assert!(still_ours(&held, t(29)));
        assert!(!still_ours(&held, t(30)));
        // The gap between the holder stopping and a take-over is the skew margin.
        assert!(!expired(&held.record, t(33), &terms()));
        assert!(expired(&held.record, t(34), &terms()));
    }

    #[tokio::test]
    async fn an_unreadable_lease_object_is_replaced_by_one_replica_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        store
            .put("lease", b"{not json".to_vec(), Cond::Absent)
            .await
            .unwrap();
        let first = try_take(&store, "lease", "a", t(0), &terms())
            .await
            .unwrap();
        assert!(matches!(first, Attempt::Taken { .. }));
        let second = try_take(&store, "lease", "b", t(0), &terms())
            .await
            .unwrap();
        assert!(matches!(second, Attempt::Busy(Some(_))));
    }

    /// Many replicas with clocks up to the skew margin apart race for the lease, renew it,
    /// die and come back, in a deterministic random order: at no instant do two of them
    /// believe they hold it.
    #[tokio::test]
    async fn never_two_holders_among_racing_replicas_with_skewed_clocks() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let terms = Terms::new(Duration::from_secs(10)); // skew 1 s
        let names = ["a", "b", "c", "d", "e"];
        // Each replica's clock offset from true time, within ±skew/2.
        let offsets = [-500i64, -250, 0, 250, 500];
        let mut held: Vec<Option<Held>> = vec![None; names.len()];
        let mut alive = [true; 5];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut takeovers = 0;
        for step in 0..3000i64 {
            let true_ms = step * 100; // 100 ms steps over 300 s
            let i = rnd(5) as usize;
            let now = Utc
                .timestamp_millis_opt(1_800_000_000_000 + true_ms + offsets[i])
                .unwrap();
            match rnd(10) {
                0 => {
                    // Dies (its lease stays behind), or comes back.
                    alive[i] = !alive[i];
                    held[i] = None;
                }
                _ if !alive[i] => {}
                _ => {
                    if let Some(h) = held[i].clone() {
                        held[i] = if still_ours(&h, now) && rnd(3) == 0 {
                            renew(&store, "lease", &h, now, &terms).await.unwrap()
                        } else if still_ours(&h, now) {
                            Some(h)
                        } else {
                            None
                        };
                    } else if let Attempt::Taken { held: h, from } =
                        try_take(&store, "lease", names[i], now, &terms)
                            .await
                            .unwrap()
                    {
                        takeovers += usize::from(from.is_some());
                        held[i] = Some(h);
                    }
                }
            }
            // At this true instant, who believes it holds the lease (by its own clock)?
            let believers: Vec<&str> = (0..5)
                .filter(|&j| {
                    let their_now = Utc
                        .timestamp_millis_opt(1_800_000_000_000 + true_ms + offsets[j])
                        .unwrap();
                    held[j].as_ref().is_some_and(|h| still_ours(h, their_now))
                })
                .map(|j| names[j])
                .collect();
            assert!(
                believers.len() <= 1,
                "step {step}: {believers:?} all hold the lease"
            );
        }
        assert!(takeovers > 5, "the run exercised take-overs ({takeovers})");
    }
}
