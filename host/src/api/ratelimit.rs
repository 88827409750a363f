//! Rate limits on `/v1`: a token bucket per API key, per app installation (OAuth) and per
//! signed-in user, sized by the organization's plan. Every answer carries the limits
//! (`RateLimit-Policy` and `RateLimit` from the IETF draft, and the common `X-RateLimit-*`);
//! an empty bucket answers 429 with `Retry-After`. Each node counts its own requests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::{Actor, Principal};
use crate::AppState;
use crate::config::{PlanLimits, RateLimitConfig};

const SHARDS: usize = 16;
/// How long an organization's plan is remembered.
const PLAN_TTL: Duration = Duration::from_secs(60);

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of this node.
pub struct RateLimiter {
    config: RateLimitConfig,
    shards: Vec<Mutex<HashMap<String, Bucket>>>,
    plans: Mutex<HashMap<String, (String, Instant)>>,
}

/// What one request learned about its bucket.
struct Verdict {
    plan: String,
    limits: PlanLimits,
    remaining: u32,
    /// Seconds until the bucket is full again.
    reset: u64,
    /// Set when the request is refused: seconds until one token is back.
    retry_after: Option<u64>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            plans: Mutex::default(),
        }
    }

    /// Takes a token for a verified request to an installation's web trigger; `Some(seconds)`
    /// to wait when there is none.
    pub fn take_trigger(&self, installation_id: &str, trigger: &str) -> Option<u64> {
        if !self.config.enabled {
            return None;
        }
        self.take(
            &format!("trigger:{installation_id}:{trigger}"),
            TRIGGERS.to_owned(),
        )
        .retry_after
    }

    fn take(&self, key: &str, plan: String) -> Verdict {
        let limits = if plan == TRIGGERS {
            self.config.triggers
        } else if plan == ANONYMOUS {
            self.config.anonymous
        } else {
            self.config
                .plans
                .get(&plan)
                .or_else(|| self.config.plans.get("standard"))
                .copied()
                .unwrap_or(PlanLimits {
                    per_minute: 6000,
                    burst: 1000,
                })
        };
        let rate = f64::from(limits.per_minute) / 60.0;
        let capacity = f64::from(limits.burst);
        let shard = key
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()))
            % SHARDS;
        let now = Instant::now();
        let mut buckets = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Forget idle buckets (full ones lose nothing by being forgotten).
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() * rate < capacity);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(capacity);
        bucket.at = now;
        let retry_after = if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            Some(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        };
        Verdict {
            plan,
            limits,
            remaining: bucket.tokens.floor() as u32,
            reset: ((capacity - bucket.tokens) / rate).ceil() as u64,
            retry_after,
        }
    }

    async fn plan_of(&self, state: &AppState, org_id: &str) -> String {
        if let Ok(plans) = self.plans.lock()
            && let Some((plan, at)) = plans.get(org_id)
            && at.elapsed() < PLAN_TTL
        {
            return plan.clone();
        }
        let plan = crate::platform::orgs::plan_of(&state.store, org_id)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| "standard".into());
        if let Ok(mut plans) = self.plans.lock() {
            if plans.len() > 100_000 {
                plans.clear();
            }
            plans.insert(org_id.to_owned(), (plan.clone(), Instant::now()));
        }
        plan
    }
}

/// The caller's address: the peer's, or behind a trusted proxy the rightmost address of
/// `X-Forwarded-For` that is not itself a trusted proxy.
fn client_address(
    parts: &axum::http::request::Parts,
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?
        .0
        .ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<std::net::IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|a| !trusted.contains(a))
            .unwrap_or(peer),
    )
}

fn set_headers(headers: &mut HeaderMap, v: &Verdict) {
    let window = (f64::from(v.limits.burst) * 60.0 / f64::from(v.limits.per_minute)).ceil() as u64;
    let pairs = [
        (
            "ratelimit-policy",
            format!("\"{}\";q={};w={window}", v.plan, v.limits.burst),
        ),
        (
            "ratelimit",
            format!("\"{}\";r={};t={}", v.plan, v.remaining, v.reset),
        ),
        ("x-ratelimit-limit", v.limits.burst.to_string()),
        ("x-ratelimit-remaining", v.remaining.to_string()),
        ("x-ratelimit-reset", v.reset.to_string()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// The policy of verified web-trigger requests, counted per installation and trigger under
/// `[rate_limits.triggers]`.
const TRIGGERS: &str = "triggers";

/// The policy name of callers without credentials (the public catalog), counted per address
/// under `[rate_limits.anonymous]`; no organization can be on it.
pub const ANONYMOUS: &str = "anonymous";

/// The middleware: authenticates (the handler reuses the result), takes a token, and answers
/// 429 when there is none. A request without credentials takes from its address's bucket
/// (plan [`ANONYMOUS`]); one with a bad credential passes through to get its 401.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.limiter.config.enabled {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let (key, plan) = match Principal::from_request_parts(&mut parts, &state).await {
        Ok(principal) => {
            let key = match &principal.actor {
                Actor::ApiKey { key_id } => format!("key:{key_id}"),
                Actor::App { installation_id, .. } => format!("installation:{installation_id}"),
                Actor::User { user_id, .. } => format!("user:{user_id}:{}", principal.org_id),
            };
            (key, state.limiter.plan_of(&state, &principal.org_id).await)
        }
        Err(_) if !super::auth::carries_credential(&parts) => {
            let address = client_address(&parts, &state.limiter.config.trusted_proxies)
                .map(|ip| ip.to_string())
                .unwrap_or_default();
            (format!("address:{address}"), ANONYMOUS.to_owned())
        }
        Err(_) => return next.run(Request::from_parts(parts, body)).await,
    };
    let verdict = state.limiter.take(&key, plan);
    if let Some(wait) = verdict.retry_after {
        let body = serde_json::json!({ "error": {
            "code": "rate_limited",
            "message": if verdict.plan == ANONYMOUS {
                format!("too many requests without credentials from this address ({} per minute); retry in {wait} s, or send an API key", verdict.limits.per_minute)
            } else {
                format!("too many requests for this credential's plan ({} per minute); retry in {wait} s", verdict.limits.per_minute)
            },
        }});
        let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
        set_headers(response.headers_mut(), &verdict);
        if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert("retry-after", value);
        }
        return response;
    }
    let mut response = next.run(Request::from_parts(parts, body)).await;
    set_headers(response.headers_mut(), &verdict);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_refills_and_tells_when() {
        let mut config = RateLimitConfig::default();
        config.plans.insert(
            "tiny".into(),
            PlanLimits {
                per_minute: 60,
                burst: 3,
            },
        );
        let limiter = RateLimiter::new(config);
        for expected in [2, 1, 0] {
            let v = limiter.take("key:a", "tiny".into());
            assert_eq!((v.remaining, v.retry_after), (expected, None));
        }
        let refused = limiter.take("key:a", "tiny".into());
        assert_eq!(refused.retry_after, Some(1), "one token a second");
        let other = limiter.take("key:b", "tiny".into());
        assert_eq!(other.retry_after, None, "buckets are per credential");
        let unknown_plan = limiter.take("key:c", "gold".into());
        assert_eq!(
            unknown_plan.limits.burst, 1000,
            "unknown plans get the standard one"
        );
    }
}
