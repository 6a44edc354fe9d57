//! API tokens: workspace credentials for integrations (CRM, ticketing, bots).
//!
//! A token is `sbk_` and 256 random bits in hex, shown once at creation; only its SHA-256 is
//! stored, with its first characters (`prefix`) so people can tell tokens apart. A token has
//! scopes (`read`, `write`, `admin`; the gateway decides what each allows), a per-minute request
//! limit the gateway enforces, an optional expiry, and can be revoked. Creation and revocation
//! are audited in their transaction; `last_used_at` is written at most once a minute per token
//! so authenticating stays a read in the common case.

use crate::audit;
use crate::auth::{random_hex, token_hash};
use crate::db::entity::api_token;
use crate::{AgentError, AgentResult};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use switchboard_platform::actor::RequestActor;
use uuid::Uuid;

/// Every scope a token may have.
pub const SCOPES: [&str; 3] = ["admin", "read", "write"];
/// Requests per minute when the creator does not say.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 600;
/// Highest per-minute limit a token may have.
pub const MAX_RATE_PER_MINUTE: u32 = 60_000;
/// Most live (unrevoked) tokens per workspace.
pub const MAX_TOKENS: u64 = 100;
/// Longest expiry, in days.
pub const MAX_EXPIRY_DAYS: u32 = 3650;
/// Prefix of every token, so leaked ones are easy to find by secret scanners.
pub const TOKEN_PREFIX: &str = "sbk_";
/// `last_used_at` is not rewritten more often than this.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub workspace_id: Uuid,
    pub name: String,
    /// Checked, sorted, unique.
    pub scopes: Vec<&'static str>,
    pub rate_per_minute: u32,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a presented token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Revoked,
    Expired,
}

/// Checks requested scopes: known names, at least one; returns them sorted and unique.
pub fn parse_scopes(scopes: &[String]) -> AgentResult<Vec<&'static str>> {
    let mut parsed = Vec::new();
    for scope in scopes {
        let known = SCOPES
            .into_iter()
            .find(|known| *known == scope.as_str())
            .ok_or_else(|| AgentError::invalid("scopes", format!("unknown scope {scope:?}")))?;
        if !parsed.contains(&known) {
            parsed.push(known);
        }
    }
    if parsed.is_empty() {
        return Err(AgentError::invalid(
            "scopes",
            "at least one of admin, read, write",
        ));
    }
    parsed.sort_unstable();
    Ok(parsed)
}

/// Creates a token; returns it with the secret, which is never stored.
pub async fn create(
    db: &DatabaseConnection,
    actor: &RequestActor,
    new: NewToken,
) -> AgentResult<(api_token::Model, String)> {
    let token = format!("{TOKEN_PREFIX}{}", random_hex(32));
    let txn = db.begin().await?;
    let live = api_token::Entity::find()
        .filter(api_token::Column::WorkspaceId.eq(new.workspace_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .count(&txn)
        .await?;
    if live >= MAX_TOKENS {
        return Err(AgentError::invalid(
            "name",
            format!("a workspace has at most {MAX_TOKENS} live tokens; revoke one first"),
        ));
    }
    let model = api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(new.workspace_id),
        name: Set(new.name),
        scopes: Set(new.scopes.join(",")),
        token_hash: Set(token_hash(&token)),
        prefix: Set(token[..TOKEN_PREFIX.len() + 8].to_owned()),
        rate_per_minute: Set(i32::try_from(new.rate_per_minute).unwrap_or(i32::MAX)),
        created_by: Set(actor.actor_id.clone()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let entry = audit::Entry::succeeded(
        model.workspace_id,
        "api_token.create",
        "api_token",
        model.id,
    )
    .with("name", &model.name)
    .with("scopes", &model.scopes)
    .with("prefix", &model.prefix);
    audit::record(&txn, actor, entry).await?;
    txn.commit().await?;
    Ok((model, token))
}

/// Lists a workspace's tokens, newest first (revoked ones too, marked).
pub async fn list(
    db: &DatabaseConnection,
    workspace_id: Uuid,
) -> AgentResult<Vec<api_token::Model>> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::WorkspaceId.eq(workspace_id))
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// Revokes a token of the workspace; revoking a revoked token changes nothing.
pub async fn revoke(
    db: &DatabaseConnection,
    actor: &RequestActor,
    workspace_id: Uuid,
    id: Uuid,
) -> AgentResult<api_token::Model> {
    let txn = db.begin().await?;
    let current = api_token::Entity::find_by_id(id)
        .filter(api_token::Column::WorkspaceId.eq(workspace_id))
        .one(&txn)
        .await?
        .ok_or(AgentError::ApiTokenNotFound)?;
    if current.revoked_at.is_some() {
        txn.rollback().await?;
        return Ok(current);
    }
    let mut active: api_token::ActiveModel = current.into();
    active.revoked_at = Set(Some(Utc::now()));
    let revoked = active.update(&txn).await?;
    let entry = audit::Entry::succeeded(workspace_id, "api_token.revoke", "api_token", id)
        .with("prefix", &revoked.prefix);
    audit::record(&txn, actor, entry).await?;
    txn.commit().await?;
    Ok(revoked)
}

/// Returns the token `presented` stands for, if it is live; records its use.
pub async fn authenticate(
    db: &DatabaseConnection,
    presented: &str,
) -> AgentResult<Result<api_token::Model, Refusal>> {
    if !presented.starts_with(TOKEN_PREFIX) {
        return Ok(Err(Refusal::Unknown));
    }
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash(presented)))
        .one(db)
        .await?
    else {
        return Ok(Err(Refusal::Unknown));
    };
    let now = Utc::now();
    if token.revoked_at.is_some() {
        return Ok(Err(Refusal::Revoked));
    }
    if token.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(Refusal::Expired));
    }
    let stale = now - chrono::Duration::seconds(LAST_USED_RESOLUTION_SECS);
    if token.last_used_at.is_none_or(|at| at < stale) {
        // Conditional, so concurrent requests write it once.
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token.id))
            .filter(
                Condition::any()
                    .add(api_token::Column::LastUsedAt.is_null())
                    .add(api_token::Column::LastUsedAt.lt(stale)),
            )
            .exec(db)
            .await?;
        return Ok(Ok(api_token::Model {
            last_used_at: Some(now),
            ..token
        }));
    }
    Ok(Ok(token))
}
