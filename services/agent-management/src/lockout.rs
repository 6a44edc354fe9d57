//! Login throttling: too many failed logins for one email lock it for a while.
//!
//! Counted in the database, so every agent-management replica sees the same count. A locked
//! email is refused before its password is checked, which also spares the CPU an attacker would
//! spend on argon2. Unknown emails are counted like known ones, so the answers say nothing
//! about which accounts exist. The price is that anyone can lock a known email out for the lock
//! time; the per-address limit at the gateway keeps one client from doing that at scale.

use crate::db::entity::login_attempt;
use crate::{AgentError, AgentResult};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use std::time::Duration;

/// When failed logins lock an email.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// Failures within `window` that lock the email.
    pub max_failures: u32,
    pub window: Duration,
    /// How long a locked email is refused.
    pub lock: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
            lock: Duration::from_secs(15 * 60),
        }
    }
}

fn later(now: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::minutes(15))
}

/// Refuses a locked email with how long it stays locked.
pub async fn check(db: &DatabaseConnection, email: &str) -> AgentResult<()> {
    let now = Utc::now();
    if let Some(locked_until) = login_attempt::Entity::find_by_id(email.to_owned())
        .one(db)
        .await?
        .and_then(|attempt| attempt.locked_until)
        .filter(|until| *until > now)
    {
        let retry_after = (locked_until - now).num_seconds().max(1) as u64;
        return Err(AgentError::TooManyAttempts { retry_after });
    }
    Ok(())
}

/// Counts a failed login; locks the email when the policy says so.
pub async fn failed(db: &DatabaseConnection, email: &str, policy: LoginPolicy) -> AgentResult<()> {
    let now = Utc::now();
    let current = login_attempt::Entity::find_by_id(email.to_owned())
        .one(db)
        .await?;
    let window_open = |started: DateTime<Utc>| later(started, policy.window) > now;
    let (failures, started) = match &current {
        Some(attempt)
            if window_open(attempt.window_started_at)
                && attempt.locked_until.is_none_or(|until| until <= now) =>
        {
            (attempt.failures + 1, attempt.window_started_at)
        }
        _ => (1, now),
    };
    let locked = failures >= policy.max_failures.max(1) as i32;
    let row = login_attempt::ActiveModel {
        email: Set(email.to_owned()),
        failures: Set(if locked { 0 } else { failures }),
        window_started_at: Set(started),
        locked_until: Set(locked.then(|| later(now, policy.lock))),
    };
    if current.is_some() {
        row.update(db).await?;
    } else {
        // Two first failures at once: the loser's count is lost, which only errs lenient.
        let _ = login_attempt::Entity::insert(row).exec(db).await;
    }
    if locked {
        metrics::counter!("switchboard_login_lockouts_total").increment(1);
        tracing::warn!("login locked after repeated failures");
    }
    Ok(())
}

/// Forgets the failures of an email that logged in.
pub async fn succeeded(db: &DatabaseConnection, email: &str) -> AgentResult<()> {
    login_attempt::Entity::delete_by_id(email.to_owned())
        .exec(db)
        .await?;
    Ok(())
}
