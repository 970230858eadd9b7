//! The replicas of one remote backend: power-of-two-choices on a latency EWMA weighted by
//! in-flight requests, a circuit breaker per replica (open after consecutive failures, one
//! half-open probe after a pause), the verdict of active health checks, and a retry budget.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::HealthSettings;

/// Weight of the newest latency sample in the moving average.
const EWMA_WEIGHT: f64 = 0.3;

/// Latency assumed for a replica that has not answered yet, so new replicas get tried.
const INITIAL_LATENCY_MICROS: f64 = 1_000.0;

#[derive(Debug)]
struct Replica {
    url: String,
    /// Moving average of the time to first token; `None` until the replica first answers.
    latency_micros: Mutex<Option<f64>>,
    in_flight: AtomicU32,
    consecutive_failures: AtomicU32,
    /// While set and in the future, the circuit is open.
    open_until: Mutex<Option<Instant>>,
    /// A half-open probe is under way.
    probing: AtomicBool,
    /// The last active health check passed (true until one fails).
    healthy: AtomicBool,
}

/// Circuit state of one replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Circuit {
    Closed,
    Open,
    HalfOpen,
}

/// A request's hold on a replica; dropping it ends the in-flight count.
#[derive(Debug)]
pub struct Lease<'a> {
    set: &'a ReplicaSet,
    pub index: usize,
    started: Instant,
    settled: bool,
}

impl Lease<'_> {
    pub fn url(&self) -> &str {
        &self.set.replicas[self.index].url
    }

    /// The replica answered (its first token arrived). A first answer, or a probe's after an
    /// outage, starts the average afresh.
    pub fn succeed(mut self) {
        self.settled = true;
        let replica = &self.set.replicas[self.index];
        let sample = self.started.elapsed().as_micros() as f64;
        let was_probe = replica.probing.swap(false, Ordering::SeqCst);
        let mut latency = replica.latency_micros.lock().expect("latency lock");
        *latency = Some(match *latency {
            Some(average) if !was_probe => EWMA_WEIGHT * sample + (1.0 - EWMA_WEIGHT) * average,
            _ => sample,
        });
        replica.consecutive_failures.store(0, Ordering::SeqCst);
        *replica.open_until.lock().expect("circuit lock") = None;
    }

    /// The replica failed before answering.
    pub fn fail(mut self) {
        self.settled = true;
        self.set.record_failure(self.index);
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let replica = &self.set.replicas[self.index];
        replica.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !self.settled {
            // Abandoned (the caller went away): no verdict, but a probe slot must not leak.
            replica.probing.store(false, Ordering::SeqCst);
        }
    }
}

#[derive(Debug)]
pub struct ReplicaSet {
    replicas: Vec<Replica>,
    settings: HealthSettings,
    draw: AtomicU64,
    /// Retry budget in thousandths of a retry: each request deposits `retry_ratio`, each retry
    /// withdraws one.
    retry_credit: AtomicU64,
}

impl ReplicaSet {
    pub fn new(urls: &[String], settings: HealthSettings) -> Self {
        ReplicaSet {
            replicas: urls
                .iter()
                .map(|url| Replica {
                    url: url.trim_end_matches('/').to_owned(),
                    latency_micros: Mutex::new(None),
                    in_flight: AtomicU32::new(0),
                    consecutive_failures: AtomicU32::new(0),
                    open_until: Mutex::new(None),
                    probing: AtomicBool::new(false),
                    healthy: AtomicBool::new(true),
                })
                .collect(),
            settings,
            draw: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
            // Start with a few retries in hand so a cold pool can fail over at once.
            retry_credit: AtomicU64::new(3_000),
        }
    }

    pub fn len(&self) -> usize {
        self.replicas.len()
    }

    pub fn url(&self, index: usize) -> &str {
        &self.replicas[index].url
    }

    pub fn circuit(&self, index: usize) -> Circuit {
        let replica = &self.replicas[index];
        match *replica.open_until.lock().expect("circuit lock") {
            None => Circuit::Closed,
            Some(until) if Instant::now() < until => Circuit::Open,
            Some(_) => Circuit::HalfOpen,
        }
    }

    #[cfg(test)]
    fn in_flight(&self, index: usize) -> u32 {
        self.replicas[index].in_flight.load(Ordering::SeqCst)
    }

    /// Whether some replica could take a request now.
    pub fn any_available(&self) -> bool {
        (0..self.replicas.len()).any(|index| self.available(index))
    }

    fn available(&self, index: usize) -> bool {
        let replica = &self.replicas[index];
        if !replica.healthy.load(Ordering::SeqCst) {
            return false;
        }
        match self.circuit(index) {
            Circuit::Closed => true,
            Circuit::Open => false,
            Circuit::HalfOpen => !replica.probing.load(Ordering::SeqCst),
        }
    }

    /// Chooses a replica not in `tried`. A half-open replica goes first, so that its one probe
    /// decides promptly whether it is back; otherwise, of two drawn at random, the one with the
    /// lower latency × (in-flight + 1).
    pub fn acquire(&self, tried: &[usize]) -> Option<Lease<'_>> {
        let candidates: Vec<usize> = (0..self.replicas.len())
            .filter(|index| !tried.contains(index) && self.available(*index))
            .collect();
        let half_open = candidates
            .iter()
            .copied()
            .find(|index| self.circuit(*index) == Circuit::HalfOpen);
        let chosen = match (half_open, candidates.len()) {
            (Some(probe), _) => probe,
            (None, 0) => return None,
            (None, 1) => candidates[0],
            (None, count) => {
                let draw = self.next_draw();
                let first = candidates[(draw % count as u64) as usize];
                let second_slot = ((draw >> 32) % (count as u64 - 1)) as usize;
                let second = candidates
                    .iter()
                    .copied()
                    .filter(|index| *index != first)
                    .nth(second_slot)
                    .expect("count - 1 others");
                if self.cost(second) < self.cost(first) {
                    second
                } else {
                    first
                }
            }
        };
        let replica = &self.replicas[chosen];
        if self.circuit(chosen) == Circuit::HalfOpen
            && replica
                .probing
                .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
        {
            return None;
        }
        replica.in_flight.fetch_add(1, Ordering::SeqCst);
        Some(Lease {
            set: self,
            index: chosen,
            started: Instant::now(),
            settled: false,
        })
    }

    fn cost(&self, index: usize) -> f64 {
        let replica = &self.replicas[index];
        let latency = replica
            .latency_micros
            .lock()
            .expect("latency lock")
            .unwrap_or(INITIAL_LATENCY_MICROS);
        latency * f64::from(replica.in_flight.load(Ordering::SeqCst) + 1)
    }

    fn next_draw(&self) -> u64 {
        // splitmix64 over a shared counter: uniform enough for picking two replicas.
        let mut z = self
            .draw
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn record_failure(&self, index: usize) {
        let replica = &self.replicas[index];
        let failures = replica.consecutive_failures.fetch_add(1, Ordering::SeqCst) + 1;
        let was_probe = replica.probing.swap(false, Ordering::SeqCst);
        if was_probe || failures >= self.settings.failure_threshold {
            *replica.open_until.lock().expect("circuit lock") =
                Some(Instant::now() + self.settings.open_for);
        }
    }

    /// A new request arrives: it earns `retry_ratio` of a retry.
    pub fn deposit_retry_credit(&self) {
        let earned = (self.settings.retry_ratio * 1000.0) as u64;
        let _ = self
            .retry_credit
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |credit| {
                Some((credit + earned).min(10_000))
            });
    }

    /// Takes one retry from the budget, if there is one.
    pub fn withdraw_retry(&self) -> bool {
        self.retry_credit
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |credit| {
                credit.checked_sub(1000)
            })
            .is_ok()
    }

    /// The verdict of an active health check.
    pub fn set_healthy(&self, index: usize, healthy: bool) {
        self.replicas[index]
            .healthy
            .store(healthy, Ordering::SeqCst);
    }

    pub fn is_healthy(&self, index: usize) -> bool {
        self.replicas[index].healthy.load(Ordering::SeqCst)
    }

    pub fn check_interval(&self) -> Option<Duration> {
        self.settings.check_interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(count: usize) -> ReplicaSet {
        let urls: Vec<String> = (0..count)
            .map(|i| format!("http://127.0.0.1:{}", 9000 + i))
            .collect();
        ReplicaSet::new(
            &urls,
            HealthSettings {
                failure_threshold: 2,
                open_for: Duration::from_millis(30),
                check_interval: None,
                retry_ratio: 0.2,
            },
        )
    }

    #[test]
    fn power_of_two_choices_prefers_the_idle_replica() {
        let replicas = set(2);
        let busy = replicas.acquire(&[]).unwrap();
        let busy_index = busy.index;
        // Two replicas: every draw compares both, so the idle one always wins.
        for _ in 0..20 {
            let lease = replicas.acquire(&[]).unwrap();
            assert_ne!(lease.index, busy_index);
        }
        drop(busy);
        assert_eq!(replicas.in_flight(busy_index), 0);
    }

    #[test]
    fn concurrent_load_spreads_over_equal_replicas() {
        let replicas = set(4);
        let leases: Vec<Lease<'_>> = (0..400).map(|_| replicas.acquire(&[]).unwrap()).collect();
        let counts: Vec<u32> = (0..4).map(|index| replicas.in_flight(index)).collect();
        assert!(counts.iter().all(|count| *count > 80), "{counts:?}");
        drop(leases);
        assert!((0..4).all(|index| replicas.in_flight(index) == 0));
    }

    #[test]
    fn the_slower_replica_gets_less_traffic() {
        let replicas = set(2);
        *replicas.replicas[0].latency_micros.lock().unwrap() = Some(50_000.0);
        *replicas.replicas[1].latency_micros.lock().unwrap() = Some(5_000.0);
        let leases: Vec<Lease<'_>> = (0..22).map(|_| replicas.acquire(&[]).unwrap()).collect();
        assert!(
            replicas.in_flight(1) >= 5 * replicas.in_flight(0),
            "{} vs {}",
            replicas.in_flight(1),
            replicas.in_flight(0)
        );
        drop(leases);
    }

    #[test]
    fn circuit_opens_after_failures_then_lets_one_probe_through() {
        let replicas = set(1);
        replicas.acquire(&[]).unwrap().fail();
        assert_eq!(replicas.circuit(0), Circuit::Closed);
        replicas.acquire(&[]).unwrap().fail();
        assert_eq!(replicas.circuit(0), Circuit::Open);
        assert!(replicas.acquire(&[]).is_none());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(replicas.circuit(0), Circuit::HalfOpen);
        let probe = replicas.acquire(&[]).expect("one probe");
        assert!(replicas.acquire(&[]).is_none(), "only one probe at a time");
        probe.fail();
        assert_eq!(replicas.circuit(0), Circuit::Open, "a failed probe reopens");
        std::thread::sleep(Duration::from_millis(40));
        replicas.acquire(&[]).unwrap().succeed();
        assert_eq!(replicas.circuit(0), Circuit::Closed);
        assert!(replicas.acquire(&[]).is_some());
    }

    #[test]
    fn a_recovering_replica_is_probed_first_and_restarts_its_average() {
        let replicas = set(2);
        *replicas.replicas[1].latency_micros.lock().unwrap() = Some(10.0);
        *replicas.replicas[0].latency_micros.lock().unwrap() = Some(90_000.0);
        for _ in 0..2 {
            replicas.set_healthy(1, false);
            replicas.acquire(&[]).unwrap().fail();
            replicas.set_healthy(1, true);
        }
        assert_eq!(replicas.circuit(0), Circuit::Open);
        std::thread::sleep(Duration::from_millis(40));
        let probe = replicas.acquire(&[]).unwrap();
        assert_eq!(
            probe.index, 0,
            "the half-open replica takes the next request"
        );
        assert_eq!(replicas.acquire(&[]).unwrap().index, 1, "and only one");
        probe.succeed();
        let average = replicas.replicas[0].latency_micros.lock().unwrap().unwrap();
        assert!(average < 90_000.0 * (1.0 - EWMA_WEIGHT), "{average}");
    }

    #[test]
    fn unhealthy_and_tried_replicas_are_skipped() {
        let replicas = set(2);
        replicas.set_healthy(0, false);
        for _ in 0..10 {
            assert_eq!(replicas.acquire(&[]).unwrap().index, 1);
        }
        assert!(replicas.acquire(&[1]).is_none());
    }

    #[test]
    fn retry_budget_is_bounded() {
        let replicas = set(2);
        let mut retries = 0;
        while replicas.withdraw_retry() {
            retries += 1;
        }
        assert_eq!(retries, 3);
        for _ in 0..10 {
            replicas.deposit_retry_credit();
        }
        assert!(replicas.withdraw_retry());
        assert!(replicas.withdraw_retry());
        assert!(!replicas.withdraw_retry());
    }
}
