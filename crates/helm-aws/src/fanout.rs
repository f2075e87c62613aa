//! One environment over many accounts: each account of `environments.json`'s `accounts`
//! is reached by assuming its role (credentials cached until shortly before they expire),
//! and the health check, the SLO reads and `watch` fan out over accounts × regions with
//! bounded concurrency. An account whose role cannot be assumed (AccessDenied, throttled)
//! leaves its own resources UNKNOWN with the reason, and the others judged.

use crate::clients::{AwsClients, StaticKeys};
use crate::error::AwsError;
use futures::StreamExt;
use helm_core::config::AccountAccess;
use helm_core::monitor::check::{HealthOptions, Target};
use helm_core::monitor::{Observation, StatusObs};
use helm_core::ports::{
    ActionRun, ActionState, ActionTarget, Failure, FailureKind, MetricQuery, MetricSeries, Receipt,
    Verdict,
};
use helm_core::resource::ResourceKind;
use helm_core::responder::catalogue::ActionId;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Assumed-role credentials kept across uses (a `watch` keeps one for its life), each
/// until five minutes before it expires.
#[derive(Default)]
pub struct RoleCache {
    inner: Mutex<HashMap<String, (StaticKeys, SystemTime)>>,
    /// AssumeRole calls made (for the counts a benchmark reports).
    pub assumed: std::sync::atomic::AtomicU32,
}

/// Refresh this long before the credentials expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

impl RoleCache {
    fn fresh(&self, key: &str) -> Option<StaticKeys> {
        let map = self.inner.lock().ok()?;
        let (keys, expires) = map.get(key)?;
        (SystemTime::now() + REFRESH_BEFORE < *expires).then(|| keys.clone())
    }
}

impl AwsClients {
    /// `sts:AssumeRole` of `access`'s role, through these clients' credentials.
    async fn assume(&self, access: &AccountAccess) -> Result<(StaticKeys, SystemTime), AwsError> {
        let mut req = self
            .sts(None)
            .assume_role()
            .role_arn(&access.role_arn)
            .role_session_name("helm-cloud")
            .duration_seconds(3600);
        if let Some(x) = &access.external_id {
            req = req.external_id(x);
        }
        let out = req
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sts:AssumeRole", Some(&access.role_arn), e))?;
        let c = out.credentials().ok_or_else(|| AwsError {
            api: "sts:AssumeRole",
            resource: Some(access.role_arn.clone()),
            kind: crate::AwsErrorKind::Service,
            code: None,
            message: "the answer held no credentials".into(),
        })?;
        let expires = SystemTime::try_from(*c.expiration())
            .unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(900));
        Ok((
            StaticKeys {
                access_key_id: c.access_key_id().to_string(),
                secret_access_key: c.secret_access_key().to_string(),
                session_token: Some(c.session_token().to_string()),
            },
            expires,
        ))
    }
}

/// The clients of an environment's accounts, and how many account × region groups run
/// at once.
pub struct FanOut {
    /// The project's own credentials: resources of accounts not listed.
    pub home: AwsClients,
    accounts: BTreeMap<String, Result<AwsClients, Failure>>,
    concurrency: usize,
}

impl FanOut {
    /// Assume every account's role (from `cache` while fresh), `concurrency` at a time.
    pub async fn new(
        home: AwsClients,
        accesses: &[AccountAccess],
        concurrency: usize,
        cache: &RoleCache,
    ) -> FanOut {
        let concurrency = concurrency.max(1);
        let home_ref = &home;
        let accounts = futures::stream::iter(accesses)
            .map(|a| async move {
                let key = format!("{}|{}", a.role_arn, a.external_id.as_deref().unwrap_or(""));
                let keys = match cache.fresh(&key) {
                    Some(k) => Ok(k),
                    None => {
                        cache
                            .assumed
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        match home_ref.assume(a).await {
                            Ok((k, exp)) => {
                                if let Ok(mut m) = cache.inner.lock() {
                                    m.insert(key, (k.clone(), exp));
                                }
                                Ok(k)
                            }
                            Err(e) => Err(Failure::from(e)),
                        }
                    }
                };
                let clients = match keys {
                    Ok(k) => {
                        let mut s = home_ref.settings().clone();
                        s.static_keys = Some(k);
                        Ok(AwsClients::new(s).await)
                    }
                    Err(f) => Err(f),
                };
                (a.account_id.clone(), clients)
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect();
        FanOut {
            home,
            accounts,
            concurrency,
        }
    }

    /// Whether the environment spans accounts (any listed).
    pub fn spans_accounts(&self) -> bool {
        !self.accounts.is_empty()
    }

    /// Accounts whose role could not be assumed, with why.
    pub fn unreachable(&self) -> Vec<(String, String)> {
        self.accounts
            .iter()
            .filter_map(|(a, c)| c.as_ref().err().map(|f| (a.clone(), f.message.clone())))
            .collect()
    }

    /// The listed account `account` is, or None for the project's own credentials.
    fn listed<'a>(&self, account: Option<&'a str>) -> Option<&'a str> {
        account.filter(|a| self.accounts.contains_key(*a))
    }

    /// The clients of listed account `account`, or why its role could not be assumed
    /// (None: not listed).
    pub fn account(&self, account: &str) -> Option<Result<&AwsClients, &Failure>> {
        self.accounts.get(account).map(|c| c.as_ref())
    }

    fn clients(&self, account: Option<&str>) -> Result<&AwsClients, &Failure> {
        match account.and_then(|a| self.accounts.get(a)) {
            Some(Ok(c)) => Ok(c),
            Some(Err(f)) => Err(f),
            None => Ok(&self.home),
        }
    }
}

/// What a resource of an account that could not be reached is: unreadable, with why.
fn unreachable_observation(f: &Failure, opts: &HealthOptions) -> Observation {
    let reason = format!("account not reachable: {}", f.brief);
    Observation {
        status: StatusObs::Unreadable {
            reason: reason.clone(),
            unreachable: f.kind == FailureKind::Unavailable,
        },
        metrics: BTreeMap::new(),
        metrics_error: opts.metrics.then(|| reason.clone()),
        alarms: Vec::new(),
        alarms_error: opts.alarms.then_some(reason),
        alarms_read: opts.alarms,
    }
}

/// One account's answer to its share of a metric batch.
type Answer = Result<Vec<MetricSeries>, Failure>;

/// The region a target is observed in: global kinds together.
fn group_region(t: &Target) -> &str {
    match t.kind {
        ResourceKind::CloudFront | ResourceKind::S3 => "global",
        _ => &t.region,
    }
}

impl helm_core::ports::Observer for FanOut {
    async fn metric_data(
        &self,
        region: &str,
        queries: &[MetricQuery],
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MetricSeries>, Failure> {
        if !self.spans_accounts() {
            return Ok(AwsClients::metric_data(&self.home, region, queries, start, end).await?);
        }
        let mut groups: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
        for (i, q) in queries.iter().enumerate() {
            groups
                .entry(self.listed(q.account.as_deref()))
                .or_default()
                .push(i);
        }
        let answers: Vec<(Vec<usize>, Answer)> = futures::stream::iter(groups)
            .map(|(account, idx)| async move {
                let sub: Vec<MetricQuery> = idx.iter().map(|&i| queries[i].clone()).collect();
                let got = match self.clients(account) {
                    Ok(c) => AwsClients::metric_data(c, region, &sub, start, end)
                        .await
                        .map_err(Failure::from),
                    Err(f) => Err(f.clone()),
                };
                (idx, got)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut out = vec![MetricSeries::default(); queries.len()];
        for (idx, got) in answers {
            match got {
                Ok(series) => {
                    for (i, s) in idx.into_iter().zip(series) {
                        out[i] = s;
                    }
                }
                // One account's failure is its own queries' error; the rest are read.
                Err(f) => {
                    for i in idx {
                        out[i].error = Some(format!("account not reachable: {}", f.brief));
                    }
                }
            }
        }
        Ok(out)
    }

    async fn observe(&self, targets: &[Target], opts: &HealthOptions) -> Vec<Observation> {
        if !self.spans_accounts() {
            return crate::health::observe(&self.home, targets, opts).await;
        }
        let mut groups: BTreeMap<(Option<&str>, &str), Vec<usize>> = BTreeMap::new();
        for (i, t) in targets.iter().enumerate() {
            groups
                .entry((self.listed(t.account()), group_region(t)))
                .or_default()
                .push(i);
        }
        let answers: Vec<(Vec<usize>, Vec<Observation>)> = futures::stream::iter(groups)
            .map(|((account, _), idx)| async move {
                let obs = match self.clients(account) {
                    Ok(c) => {
                        let sub: Vec<Target> = idx.iter().map(|&i| targets[i].clone()).collect();
                        crate::health::observe(c, &sub, opts).await
                    }
                    Err(f) => idx
                        .iter()
                        .map(|_| unreachable_observation(f, opts))
                        .collect(),
                };
                (idx, obs)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut out: Vec<Option<Observation>> = vec![None; targets.len()];
        for (idx, obs) in answers {
            for (i, o) in idx.into_iter().zip(obs) {
                out[i] = Some(o);
            }
        }
        out.into_iter()
            .map(|o| o.expect("every target is in one group"))
            .collect()
    }

    async fn detail_status(&self, target: &Target, environment: &str) -> StatusObs {
        match self.clients(self.listed(target.account())) {
            Ok(c) => crate::health::detail_status(c, target, environment).await,
            Err(f) => StatusObs::Unreadable {
                reason: format!("account not reachable: {}", f.brief),
                unreachable: f.kind == FailureKind::Unavailable,
            },
        }
    }
}

/// Remediation in an environment that spans accounts is refused (the action's target does
/// not say its account yet, and acting with the wrong account's credentials is the one
/// mistake this must not make); with no accounts listed it is the project's own.
fn cross_account_refusal() -> Failure {
    Failure {
        kind: FailureKind::Rejected,
        api: "remediate".into(),
        code: None,
        cause: "the environment spans accounts".into(),
        message: "remediation in an environment that lists accounts is not supported yet: nothing was changed".into(),
        brief: "remediation across accounts is not supported yet".into(),
        hint: "remediate with that account's own credentials (--profile), in an environment without `accounts`".into(),
    }
}

impl helm_core::ports::Actuator for FanOut {
    async fn state(
        &self,
        action: ActionId,
        kind: ResourceKind,
        target: &ActionTarget,
    ) -> Result<ActionState, Failure> {
        if self.spans_accounts() {
            return Err(cross_account_refusal());
        }
        self.home.state(action, kind, target).await
    }

    async fn unreserved_concurrency(&self, region: &str) -> Result<i64, Failure> {
        if self.spans_accounts() {
            return Err(cross_account_refusal());
        }
        self.home.unreserved_concurrency(region).await
    }

    async fn apply(&self, run: ActionRun<'_>) -> Result<Receipt, Failure> {
        if self.spans_accounts() {
            return Err(cross_account_refusal());
        }
        self.home.apply(run).await
    }

    async fn verify(
        &self,
        run: ActionRun<'_>,
        before: &ActionState,
        applied: &Receipt,
        wait: Duration,
    ) -> (Verdict, Option<ActionState>) {
        self.home.verify(run, before, applied, wait).await
    }
}

/// Stacks and tags are read with the project's own credentials.
impl helm_core::ports::Estate for FanOut {
    async fn stack_names(&self, region: &str) -> Result<Vec<String>, Failure> {
        Ok(self.home.stack_names(region).await?)
    }
    async fn stack(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<helm_core::import::Stack>, Failure> {
        Ok(self.home.stack(region, name).await?)
    }
    async fn tagged(
        &self,
        region: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<(String, serde_json::Value)>, Failure> {
        Ok(self.home.tagged(region, key, value).await?)
    }
    async fn group_balancers(
        &self,
        region: &str,
        groups: &[String],
    ) -> Result<std::collections::BTreeMap<String, String>, Failure> {
        helm_core::ports::Estate::group_balancers(&self.home, region, groups).await
    }
}
