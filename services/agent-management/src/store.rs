//! Queries and transactions of agent management. The only module that talks SQL.
//!
//! Every lookup is scoped by workspace: an id from another workspace is reported exactly like an
//! id that does not exist.

use crate::audit;
use crate::auth;
use crate::db::OUTBOX;
use crate::db::entity::{
    agent, agent_department, agent_totp, canned_reply, department, login_session, presence_lease,
    workspace,
};
use crate::hours::BusinessHours;
use crate::{AgentError, AgentResult};
use chrono::Utc;
use prost::Message as _;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::collections::HashMap;
use std::time::Duration;
use switchboard_platform::actor::RequestActor;
use switchboard_platform::outbox::OutboxNotifier;
use switchboard_platform::subjects::Subjects;
use switchboard_proto::events::v1 as events;
use uuid::Uuid;

/// Role of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Supervisor,
    Agent,
}

impl Role {
    /// Returns the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::Agent => "agent",
        }
    }

    /// Parses the stored form; anything unknown is the least privileged role.
    pub fn from_stored(stored: &str) -> Self {
        match stored {
            "admin" => Self::Admin,
            "supervisor" => Self::Supervisor,
            _ => Self::Agent,
        }
    }
}

/// How routing picks among agents with room (see the routing service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    #[default]
    LeastLoaded,
    RoundRobin,
    LongestIdle,
}

impl Strategy {
    /// Returns the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeastLoaded => "least_loaded",
            Self::RoundRobin => "round_robin",
            Self::LongestIdle => "longest_idle",
        }
    }

    /// Parses the stored form; anything unknown is the default.
    pub fn from_stored(stored: &str) -> Self {
        match stored {
            "round_robin" => Self::RoundRobin,
            "longest_idle" => Self::LongestIdle,
            _ => Self::LeastLoaded,
        }
    }
}

/// A department's routing settings, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingSettings {
    pub strategy: Strategy,
    pub sticky_window_secs: i32,
    pub required_skills: Vec<String>,
    pub business_hours: Option<BusinessHours>,
    pub fallback_department_id: Option<Uuid>,
}

/// Changes to a department; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DepartmentChanges {
    pub name: Option<String>,
    pub strategy: Option<Strategy>,
    pub sticky_window_secs: Option<i32>,
    pub required_skills: Option<Vec<String>>,
    /// `Some(None)` removes the hours.
    pub business_hours: Option<Option<BusinessHours>>,
    /// `Some(None)` removes the fallback.
    pub fallback_department_id: Option<Option<Uuid>>,
}

/// Changes to an agent; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub max_concurrent: Option<i32>,
    pub skills: Option<Vec<String>>,
    pub department_ids: Option<Vec<Uuid>>,
    pub disabled: Option<bool>,
}

/// Returns the stored form of business hours.
fn hours_to_stored(hours: &BusinessHours) -> String {
    serde_json::to_string(hours).unwrap_or_default()
}

/// Parses stored business hours; a damaged value reads as none (always open).
pub fn hours_from_stored(stored: Option<&str>) -> Option<BusinessHours> {
    stored.and_then(|stored| serde_json::from_str(stored).ok())
}

/// Whether a visitor can expect an answer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Open,
    OutsideHours,
    NobodyOnline,
}

/// Returns the stored form of a skill list.
fn skills_to_stored(skills: &[String]) -> String {
    serde_json::to_string(skills).unwrap_or_else(|_| "[]".to_owned())
}

/// Parses a stored skill list; a damaged value reads as no skills.
pub fn skills_from_stored(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

/// Declared availability of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Online,
    Away,
    Offline,
}

impl Status {
    /// Parses the stored form; anything unknown is offline.
    pub fn from_stored(stored: &str) -> Self {
        match stored {
            "online" => Self::Online,
            "away" => Self::Away,
            _ => Self::Offline,
        }
    }

    /// Returns the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }
}

/// A new agent, validated.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub workspace_id: Uuid,
    pub name: String,
    pub email: String,
    pub password: String,
    pub role: Role,
    pub max_concurrent: i32,
    pub department_ids: Vec<Uuid>,
    pub skills: Vec<String>,
}

/// An agent with its department memberships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    pub agent: agent::Model,
    pub department_ids: Vec<Uuid>,
}

/// A login that succeeded.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub token: String,
    pub agent: AgentRecord,
    pub expires_at: chrono::DateTime<Utc>,
}

/// Result of a bootstrap call.
#[derive(Debug, Clone)]
pub struct BootstrapOutcome {
    pub created: bool,
    pub workspace: workspace::Model,
    pub admin: Option<AgentRecord>,
}

/// Data access of agent management.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    subjects: Subjects,
    notifier: OutboxNotifier,
    session_ttl: Duration,
    /// When failed logins lock an email.
    login_policy: crate::lockout::LoginPolicy,
}

impl Store {
    /// Returns a store on `db` publishing under `subjects`.
    pub fn new(
        db: DatabaseConnection,
        subjects: Subjects,
        notifier: OutboxNotifier,
        session_ttl: Duration,
    ) -> Self {
        Self {
            db,
            subjects,
            notifier,
            session_ttl,
            login_policy: crate::lockout::LoginPolicy::default(),
        }
    }

    /// Sets when failed logins lock an email.
    pub fn with_login_policy(mut self, policy: crate::lockout::LoginPolicy) -> Self {
        self.login_policy = policy;
        self
    }

    /// Creates a workspace with a fresh site key and secret.
    pub async fn create_workspace(&self, name: &str) -> AgentResult<workspace::Model> {
        let model = new_workspace(name);
        Ok(model.insert(&self.db).await?)
    }

    /// Returns a workspace by id.
    pub async fn workspace(&self, id: Uuid) -> AgentResult<workspace::Model> {
        workspace::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AgentError::WorkspaceNotFound)
    }

    /// Returns the workspace whose widget uses `site_key`.
    pub async fn workspace_by_site_key(&self, site_key: &str) -> AgentResult<workspace::Model> {
        workspace::Entity::find()
            .filter(workspace::Column::SiteKey.eq(site_key))
            .one(&self.db)
            .await?
            .ok_or(AgentError::WorkspaceNotFound)
    }

    /// Returns whether `user_hash` signs `user_id` with the workspace's secret.
    pub async fn verify_identity(
        &self,
        workspace_id: Uuid,
        user_id: &str,
        user_hash: &str,
    ) -> AgentResult<bool> {
        let workspace = self.workspace(workspace_id).await?;
        Ok(auth::identity_signed(&workspace.secret, user_id, user_hash))
    }

    /// Returns the oldest workspace.
    pub async fn default_workspace(&self) -> AgentResult<workspace::Model> {
        workspace::Entity::find()
            .order_by_asc(workspace::Column::CreatedAt)
            .one(&self.db)
            .await?
            .ok_or(AgentError::WorkspaceNotFound)
    }

    /// Creates the first workspace and its admin, unless a workspace exists already.
    pub async fn bootstrap(
        &self,
        workspace_name: &str,
        admin_name: &str,
        email: &str,
        password: &str,
    ) -> AgentResult<BootstrapOutcome> {
        if let Some(existing) = workspace::Entity::find()
            .order_by_asc(workspace::Column::CreatedAt)
            .one(&self.db)
            .await?
        {
            return Ok(BootstrapOutcome {
                created: false,
                workspace: existing,
                admin: None,
            });
        }
        let password_hash = auth::hash_password(password.to_owned()).await?;
        let txn = self.db.begin().await?;
        let workspace = new_workspace(workspace_name).insert(&txn).await?;
        let admin = new_agent_model(
            &NewAgent {
                workspace_id: workspace.id,
                name: admin_name.to_owned(),
                email: email.to_owned(),
                password: String::new(),
                role: Role::Admin,
                max_concurrent: 5,
                department_ids: Vec::new(),
                skills: Vec::new(),
            },
            password_hash,
        )
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(BootstrapOutcome {
            created: true,
            workspace,
            admin: Some(AgentRecord {
                agent: admin,
                department_ids: Vec::new(),
            }),
        })
    }

    /// Creates a department.
    pub async fn create_department(
        &self,
        actor: &RequestActor,
        workspace_id: Uuid,
        name: &str,
        settings: RoutingSettings,
    ) -> AgentResult<department::Model> {
        self.workspace(workspace_id).await?;
        if let Some(fallback) = settings.fallback_department_id {
            self.check_departments(workspace_id, &[fallback]).await?;
        }
        let model = department::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(workspace_id),
            name: Set(name.to_owned()),
            created_at: Set(Utc::now()),
            strategy: Set(settings.strategy.as_str().to_owned()),
            sticky_window_secs: Set(settings.sticky_window_secs),
            required_skills: Set(skills_to_stored(&settings.required_skills)),
            business_hours: Set(settings.business_hours.as_ref().map(hours_to_stored)),
            fallback_department_id: Set(settings.fallback_department_id),
        };
        let txn = self.db.begin().await?;
        let department = model.insert(&txn).await.map_err(department_name_taken)?;
        let entry = audit::Entry::succeeded(
            workspace_id,
            "department.create",
            "department",
            department.id,
        )
        .with("name", &department.name)
        .with("strategy", &department.strategy);
        audit::record(&txn, actor, entry).await?;
        txn.commit().await?;
        Ok(department)
    }

    /// Changes a department of a workspace.
    pub async fn update_department(
        &self,
        actor: &RequestActor,
        workspace_id: Uuid,
        department_id: Uuid,
        changes: DepartmentChanges,
    ) -> AgentResult<department::Model> {
        let current = department::Entity::find_by_id(department_id)
            .filter(department::Column::WorkspaceId.eq(workspace_id))
            .one(&self.db)
            .await?
            .ok_or(AgentError::DepartmentNotFound)?;
        let mut active: department::ActiveModel = current.into();
        if let Some(name) = changes.name {
            active.name = Set(name);
        }
        if let Some(strategy) = changes.strategy {
            active.strategy = Set(strategy.as_str().to_owned());
        }
        if let Some(window) = changes.sticky_window_secs {
            active.sticky_window_secs = Set(window);
        }
        if let Some(skills) = changes.required_skills {
            active.required_skills = Set(skills_to_stored(&skills));
        }
        if let Some(hours) = changes.business_hours {
            active.business_hours = Set(hours.as_ref().map(hours_to_stored));
        }
        if let Some(fallback) = changes.fallback_department_id {
            if let Some(fallback) = fallback {
                if fallback == department_id {
                    return Err(AgentError::invalid(
                        "fallback_department_id",
                        "a department cannot be its own fallback",
                    ));
                }
                self.check_departments(workspace_id, &[fallback]).await?;
            }
            active.fallback_department_id = Set(fallback);
        }
        let changed = set_columns(&active);
        let txn = self.db.begin().await?;
        let department = active.update(&txn).await.map_err(department_name_taken)?;
        let entry = audit::Entry::succeeded(
            workspace_id,
            "department.update",
            "department",
            department_id,
        )
        .with("changed", changed.join(","));
        audit::record(&txn, actor, entry).await?;
        txn.commit().await?;
        Ok(department)
    }

    /// Lists the departments of a workspace, by name.
    pub async fn departments(&self, workspace_id: Uuid) -> AgentResult<Vec<department::Model>> {
        Ok(department::Entity::find()
            .filter(department::Column::WorkspaceId.eq(workspace_id))
            .order_by_asc(department::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// Creates an agent and its memberships.
    pub async fn create_agent(
        &self,
        actor: &RequestActor,
        new: NewAgent,
    ) -> AgentResult<AgentRecord> {
        self.workspace(new.workspace_id).await?;
        self.check_departments(new.workspace_id, &new.department_ids)
            .await?;
        let password_hash = auth::hash_password(new.password.clone()).await?;
        let txn = self.db.begin().await?;
        let agent = match new_agent_model(&new, password_hash).insert(&txn).await {
            Ok(agent) => agent,
            Err(error) if is_unique_violation(&error) => return Err(AgentError::EmailTaken),
            Err(error) => return Err(error.into()),
        };
        set_memberships(&txn, agent.id, &new.department_ids).await?;
        let entry = audit::Entry::succeeded(new.workspace_id, "agent.create", "agent", agent.id)
            .with("email", &agent.email)
            .with("role", &agent.role);
        audit::record(&txn, actor, entry).await?;
        txn.commit().await?;
        Ok(AgentRecord {
            agent,
            department_ids: new.department_ids,
        })
    }

    /// Fails with `DepartmentNotFound` unless every id is a department of the workspace.
    async fn check_departments(&self, workspace_id: Uuid, ids: &[Uuid]) -> AgentResult<()> {
        let known = department::Entity::find()
            .filter(department::Column::WorkspaceId.eq(workspace_id))
            .filter(department::Column::Id.is_in(ids.to_vec()))
            .count(&self.db)
            .await?;
        if known != ids.len() as u64 {
            return Err(AgentError::DepartmentNotFound);
        }
        Ok(())
    }

    /// Changes an agent. Disabling ends its sessions and, when it was not offline, sets it
    /// offline and announces that, all in one transaction.
    pub async fn update_agent(
        &self,
        actor: &RequestActor,
        workspace_id: Uuid,
        agent_id: Uuid,
        changes: AgentChanges,
    ) -> AgentResult<AgentRecord> {
        let record = self.agent(workspace_id, agent_id).await?;
        if let Some(department_ids) = &changes.department_ids {
            self.check_departments(workspace_id, department_ids).await?;
        }
        let stays_admin = changes.role.is_none_or(|role| role == Role::Admin)
            && !changes.disabled.unwrap_or(record.agent.disabled);
        if Role::from_stored(&record.agent.role) == Role::Admin && !stays_admin {
            let other_admins = agent::Entity::find()
                .filter(agent::Column::WorkspaceId.eq(workspace_id))
                .filter(agent::Column::Role.eq(Role::Admin.as_str()))
                .filter(agent::Column::Disabled.eq(false))
                .filter(agent::Column::Id.ne(agent_id))
                .count(&self.db)
                .await?;
            if other_admins == 0 {
                return Err(AgentError::LastAdmin);
            }
        }
        let txn = self.db.begin().await?;
        let mut active: agent::ActiveModel = record.agent.clone().into();
        if let Some(name) = changes.name {
            active.name = Set(name);
        }
        if let Some(role) = changes.role {
            active.role = Set(role.as_str().to_owned());
        }
        if let Some(max_concurrent) = changes.max_concurrent {
            active.max_concurrent = Set(max_concurrent);
        }
        if let Some(skills) = &changes.skills {
            active.skills = Set(skills_to_stored(skills));
        }
        let disabling = changes.disabled == Some(true) && !record.agent.disabled;
        if let Some(disabled) = changes.disabled {
            active.disabled = Set(disabled);
        }
        let went_offline = disabling && record.agent.status != Status::Offline.as_str();
        if went_offline {
            active.status = Set(Status::Offline.as_str().to_owned());
        }
        active.updated_at = Set(Utc::now());
        let mut changed = set_columns(&active);
        changed.retain(|column| column != "updated_at");
        if changes.department_ids.is_some() {
            changed.push("department_ids".to_owned());
        }
        let mut entry = audit::Entry::succeeded(workspace_id, "agent.update", "agent", agent_id)
            .with("changed", changed.join(","));
        if let Some(role) = changes.role {
            entry = entry.with("role", role.as_str());
        }
        if let Some(disabled) = changes.disabled {
            entry = entry.with("disabled", disabled);
        }
        audit::record(&txn, actor, entry).await?;
        let agent = active.update(&txn).await?;
        let department_ids = match changes.department_ids {
            Some(department_ids) => {
                set_memberships(&txn, agent_id, &department_ids).await?;
                department_ids
            }
            None => record.department_ids,
        };
        if disabling {
            end_sessions(&txn, agent_id).await?;
        }
        if went_offline {
            self.announce_status(&txn, &agent, &department_ids, "disabled")
                .await?;
        }
        txn.commit().await?;
        if went_offline {
            self.notifier.notify();
        }
        Ok(AgentRecord {
            agent,
            department_ids,
        })
    }

    /// Replaces an agent's password and ends its sessions.
    pub async fn reset_password(
        &self,
        actor: &RequestActor,
        workspace_id: Uuid,
        agent_id: Uuid,
        password: &str,
    ) -> AgentResult<()> {
        let record = self.agent(workspace_id, agent_id).await?;
        let password_hash = auth::hash_password(password.to_owned()).await?;
        let txn = self.db.begin().await?;
        let mut active: agent::ActiveModel = record.agent.into();
        active.password_hash = Set(password_hash);
        active.updated_at = Set(Utc::now());
        active.update(&txn).await?;
        end_sessions(&txn, agent_id).await?;
        let entry =
            audit::Entry::succeeded(workspace_id, "agent.password_reset", "agent", agent_id);
        audit::record(&txn, actor, entry).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Records an audit entry on its own (an action another service carries out).
    pub async fn record_audit(
        &self,
        actor: &RequestActor,
        entry: audit::Entry,
    ) -> AgentResult<i64> {
        self.workspace(entry.workspace_id).await?;
        audit::record(&self.db, actor, entry).await
    }

    /// Completes a `requested` audit entry with its outcome.
    pub async fn complete_audit(
        &self,
        workspace_id: Uuid,
        id: i64,
        outcome: &'static str,
        detail: std::collections::BTreeMap<String, String>,
    ) -> AgentResult<()> {
        audit::complete(&self.db, workspace_id, id, outcome, detail).await
    }

    /// Returns a page of a workspace's audit log, newest first, and the next page's cursor.
    pub async fn audit_events(
        &self,
        workspace_id: Uuid,
        filter: audit::Filter,
        limit: u64,
    ) -> AgentResult<(Vec<crate::db::entity::audit_event::Model>, Option<i64>)> {
        audit::list(&self.db, workspace_id, filter, limit).await
    }

    /// Creates an API token (see [`crate::api_tokens`]).
    pub async fn create_api_token(
        &self,
        actor: &RequestActor,
        new: crate::api_tokens::NewToken,
    ) -> AgentResult<(crate::db::entity::api_token::Model, String)> {
        self.workspace(new.workspace_id).await?;
        crate::api_tokens::create(&self.db, actor, new).await
    }

    /// Lists a workspace's API tokens.
    pub async fn api_tokens(
        &self,
        workspace_id: Uuid,
    ) -> AgentResult<Vec<crate::db::entity::api_token::Model>> {
        crate::api_tokens::list(&self.db, workspace_id).await
    }

    /// Revokes an API token.
    pub async fn revoke_api_token(
        &self,
        actor: &RequestActor,
        workspace_id: Uuid,
        id: Uuid,
    ) -> AgentResult<crate::db::entity::api_token::Model> {
        crate::api_tokens::revoke(&self.db, actor, workspace_id, id).await
    }

    /// Resolves a presented API token to the token and its workspace.
    pub async fn authenticate_api_token(
        &self,
        presented: &str,
    ) -> AgentResult<
        Result<(crate::db::entity::api_token::Model, workspace::Model), crate::api_tokens::Refusal>,
    > {
        match crate::api_tokens::authenticate(&self.db, presented).await? {
            Ok(token) => {
                let workspace = self.workspace(token.workspace_id).await?;
                Ok(Ok((token, workspace)))
            }
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    /// Returns one agent of a workspace.
    pub async fn agent(&self, workspace_id: Uuid, agent_id: Uuid) -> AgentResult<AgentRecord> {
        let agent = agent::Entity::find_by_id(agent_id)
            .filter(agent::Column::WorkspaceId.eq(workspace_id))
            .one(&self.db)
            .await?
            .ok_or(AgentError::AgentNotFound)?;
        Ok(self.with_departments(vec![agent]).await?.remove(0))
    }

    /// Lists agents of a workspace, optionally of one department and with one status.
    pub async fn agents(
        &self,
        workspace_id: Uuid,
        department_id: Option<Uuid>,
        status: Option<Status>,
    ) -> AgentResult<Vec<AgentRecord>> {
        let mut query = agent::Entity::find()
            .filter(agent::Column::WorkspaceId.eq(workspace_id))
            .order_by_asc(agent::Column::CreatedAt);
        if let Some(status) = status {
            query = query.filter(agent::Column::Status.eq(status.as_str()));
        }
        if let Some(department_id) = department_id {
            let members: Vec<Uuid> = agent_department::Entity::find()
                .filter(agent_department::Column::DepartmentId.eq(department_id))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|member| member.agent_id)
                .collect();
            query = query.filter(agent::Column::Id.is_in(members));
        }
        let agents = query.all(&self.db).await?;
        self.with_departments(agents).await
    }

    async fn with_departments(&self, agents: Vec<agent::Model>) -> AgentResult<Vec<AgentRecord>> {
        let ids: Vec<Uuid> = agents.iter().map(|agent| agent.id).collect();
        let mut memberships: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for member in agent_department::Entity::find()
            .filter(agent_department::Column::AgentId.is_in(ids))
            .all(&self.db)
            .await?
        {
            memberships
                .entry(member.agent_id)
                .or_default()
                .push(member.department_id);
        }
        Ok(agents
            .into_iter()
            .map(|agent| AgentRecord {
                department_ids: memberships.remove(&agent.id).unwrap_or_default(),
                agent,
            })
            .collect())
    }

    /// Exchanges credentials for a new session token.
    ///
    /// Logins to a known account are audited: succeeded, failed (wrong password), denied
    /// (locked out or disabled). Unknown emails are not: they belong to no workspace.
    ///
    /// With two-factor on, a right password without a code is `TotpRequired` (the client asks
    /// for one; nothing is counted), and a wrong or reused code counts as a failed login.
    pub async fn login(
        &self,
        actor: &RequestActor,
        email: &str,
        password: &str,
        totp_code: Option<&str>,
    ) -> AgentResult<LoginOutcome> {
        let email = email.trim().to_lowercase();
        let agent = agent::Entity::find()
            .filter(agent::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?;
        let audit_refusal = |action: &'static str, outcome: &'static str| {
            self.audit_login_refusal(actor, agent.as_ref(), action, outcome)
        };
        if let Err(error) = crate::lockout::check(&self.db, &email).await {
            audit_refusal("auth.login_locked", audit::outcome::DENIED).await?;
            return Err(error);
        }
        let stored = agent.as_ref().map(|agent| agent.password_hash.clone());
        if !auth::verify_password(password.to_owned(), stored).await? {
            audit_refusal("auth.login_failed", audit::outcome::FAILED).await?;
            crate::lockout::failed(&self.db, &email, self.login_policy).await?;
            return Err(AgentError::InvalidCredentials);
        }
        if let Some(agent) = &agent
            && let Some(totp) = self.enabled_totp(agent.id).await?
        {
            let Some(code) = totp_code.filter(|code| !code.trim().is_empty()) else {
                return Err(AgentError::TotpRequired);
            };
            if !self.accept_totp_code(&totp, code).await? {
                audit_refusal("auth.login_failed", audit::outcome::FAILED).await?;
                crate::lockout::failed(&self.db, &email, self.login_policy).await?;
                return Err(AgentError::InvalidTotp);
            }
        }
        crate::lockout::succeeded(&self.db, &email).await?;
        if agent.as_ref().is_some_and(|agent| agent.disabled) {
            audit_refusal("auth.login_disabled", audit::outcome::DENIED).await?;
            return Err(AgentError::AgentDisabled);
        }
        let agent = agent.ok_or(AgentError::InvalidCredentials)?;
        let token = auth::new_token();
        let now = Utc::now();
        let expires_at = now
            + chrono::Duration::from_std(self.session_ttl).unwrap_or(chrono::Duration::hours(12));
        let txn = self.db.begin().await?;
        login_session::ActiveModel {
            token_hash: Set(auth::token_hash(&token)),
            agent_id: Set(agent.id),
            workspace_id: Set(agent.workspace_id),
            created_at: Set(now),
            expires_at: Set(expires_at),
            client_ip: Set(actor.client_ip.clone()),
            user_agent: Set(actor.user_agent.clone()),
        }
        .insert(&txn)
        .await?;
        let signed_in = RequestActor {
            actor_id: Some(agent.id.to_string()),
            ..actor.clone()
        };
        let entry = audit::Entry::succeeded(agent.workspace_id, "auth.login", "agent", agent.id);
        audit::record(&txn, &signed_in, entry).await?;
        txn.commit().await?;
        let agent = self.with_departments(vec![agent]).await?.remove(0);
        Ok(LoginOutcome {
            token,
            agent,
            expires_at,
        })
    }

    /// Returns an agent's confirmed TOTP secret, if two-factor is on.
    async fn enabled_totp(&self, agent_id: Uuid) -> AgentResult<Option<agent_totp::Model>> {
        Ok(agent_totp::Entity::find_by_id(agent_id)
            .filter(agent_totp::Column::EnabledAt.is_not_null())
            .one(&self.db)
            .await?)
    }

    /// Checks a code against `totp` and, if good, marks its step used (once, even when two
    /// requests race with the same code). Returns whether it was accepted.
    async fn accept_totp_code(&self, totp: &agent_totp::Model, code: &str) -> AgentResult<bool> {
        let Some(step) =
            crate::two_factor::verify(&totp.secret, code, Utc::now().timestamp(), totp.last_step)
        else {
            return Ok(false);
        };
        let claimed = agent_totp::Entity::update_many()
            .col_expr(agent_totp::Column::LastStep, Expr::value(step))
            .filter(agent_totp::Column::AgentId.eq(totp.agent_id))
            .filter(
                sea_orm::Condition::any()
                    .add(agent_totp::Column::LastStep.is_null())
                    .add(agent_totp::Column::LastStep.lt(step)),
            )
            .exec(&self.db)
            .await?
            .rows_affected;
        Ok(claimed == 1)
    }

    /// Whether an agent has two-factor on.
    pub async fn two_factor_enabled(&self, agent_id: Uuid) -> AgentResult<bool> {
        Ok(self.enabled_totp(agent_id).await?.is_some())
    }

    /// Starts turning two-factor on: stores a new pending secret and returns it with its
    /// `otpauth://` URI. Refused while two-factor is on (turn it off first).
    pub async fn begin_two_factor(
        &self,
        workspace_id: Uuid,
        agent_id: Uuid,
    ) -> AgentResult<(String, String)> {
        let record = self.agent(workspace_id, agent_id).await?;
        if self.enabled_totp(agent_id).await?.is_some() {
            return Err(AgentError::invalid(
                "two_factor",
                "two-factor is already on; turn it off first",
            ));
        }
        let secret = crate::two_factor::new_secret();
        let pending = agent_totp::ActiveModel {
            agent_id: Set(agent_id),
            secret: Set(secret.clone()),
            enabled_at: Set(None),
            last_step: Set(None),
        };
        agent_totp::Entity::insert(pending)
            .on_conflict(
                OnConflict::column(agent_totp::Column::AgentId)
                    .update_columns([
                        agent_totp::Column::Secret,
                        agent_totp::Column::EnabledAt,
                        agent_totp::Column::LastStep,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await?;
        let workspace = self.workspace(workspace_id).await?;
        let uri = crate::two_factor::otpauth_uri(
            &secret,
            &record.agent.email,
            &format!("Switchboard {}", workspace.name),
        );
        Ok((secret, uri))
    }

    /// Confirms a pending secret with a first code: two-factor is on from then on.
    pub async fn enable_two_factor(
        &self,
        actor: &RequestActor,
        workspace_id: Uuid,
        agent_id: Uuid,
        code: &str,
    ) -> AgentResult<()> {
        self.agent(workspace_id, agent_id).await?;
        let pending = agent_totp::Entity::find_by_id(agent_id)
            .one(&self.db)
            .await?
            .filter(|totp| totp.enabled_at.is_none())
            .ok_or_else(|| AgentError::invalid("two_factor", "start the setup first"))?;
        if !self.accept_totp_code(&pending, code).await? {
            return Err(AgentError::InvalidTotp);
        }
        let txn = self.db.begin().await?;
        agent_totp::Entity::update_many()
            .col_expr(agent_totp::Column::EnabledAt, Expr::value(Utc::now()))
            .filter(agent_totp::Column::AgentId.eq(agent_id))
            .exec(&txn)
            .await?;
        let entry =
            audit::Entry::succeeded(workspace_id, "auth.two_factor_enable", "agent", agent_id);
        audit::record(&txn, actor, entry).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Turns two-factor off: with a valid code by the agent itself, or without one by an admin
    /// (a lost phone). Either way it is audited.
    pub async fn disable_two_factor(
        &self,
        actor: &RequestActor,
        workspace_id: Uuid,
        agent_id: Uuid,
        code: Option<&str>,
    ) -> AgentResult<()> {
        self.agent(workspace_id, agent_id).await?;
        if let Some(code) = code {
            let enabled = self
                .enabled_totp(agent_id)
                .await?
                .ok_or_else(|| AgentError::invalid("two_factor", "two-factor is off"))?;
            if !self.accept_totp_code(&enabled, code).await? {
                return Err(AgentError::InvalidTotp);
            }
        }
        let txn = self.db.begin().await?;
        let removed = agent_totp::Entity::delete_by_id(agent_id)
            .exec(&txn)
            .await?
            .rows_affected;
        if removed > 0 {
            let action = if code.is_some() {
                "auth.two_factor_disable"
            } else {
                "auth.two_factor_reset"
            };
            let entry = audit::Entry::succeeded(workspace_id, action, "agent", agent_id);
            audit::record(&txn, actor, entry).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Lists an agent's live sessions, newest first; `current_token` marks the caller's own.
    pub async fn sessions(
        &self,
        workspace_id: Uuid,
        agent_id: Uuid,
        current_token: Option<&str>,
    ) -> AgentResult<Vec<(login_session::Model, bool)>> {
        let current = current_token.map(auth::token_hash);
        let sessions = login_session::Entity::find()
            .filter(login_session::Column::WorkspaceId.eq(workspace_id))
            .filter(login_session::Column::AgentId.eq(agent_id))
            .filter(login_session::Column::ExpiresAt.gt(Utc::now()))
            .order_by_desc(login_session::Column::CreatedAt)
            .all(&self.db)
            .await?;
        Ok(sessions
            .into_iter()
            .map(|session| {
                let is_current = current.as_deref() == Some(session.token_hash.as_str());
                (session, is_current)
            })
            .collect())
    }

    /// Ends sessions of an agent: the one whose id (see [`session_id`]) is `session_id`, or
    /// every one but `keep_token`'s. Returns how many ended.
    pub async fn revoke_sessions(
        &self,
        actor: &RequestActor,
        workspace_id: Uuid,
        agent_id: Uuid,
        session_id: Option<&str>,
        keep_token: Option<&str>,
    ) -> AgentResult<u64> {
        self.agent(workspace_id, agent_id).await?;
        let sessions = self.sessions(workspace_id, agent_id, keep_token).await?;
        let doomed: Vec<String> = sessions
            .into_iter()
            .filter(|(session, current)| match session_id {
                Some(id) => self::session_id(&session.token_hash) == id,
                None => !current,
            })
            .map(|(session, _)| session.token_hash)
            .collect();
        if session_id.is_some() && doomed.is_empty() {
            return Err(AgentError::SessionNotFound);
        }
        let txn = self.db.begin().await?;
        let revoked = login_session::Entity::delete_many()
            .filter(login_session::Column::TokenHash.is_in(doomed))
            .exec(&txn)
            .await?
            .rows_affected;
        let entry =
            audit::Entry::succeeded(workspace_id, "auth.sessions_revoke", "agent", agent_id)
                .with("revoked", revoked);
        audit::record(&txn, actor, entry).await?;
        txn.commit().await?;
        Ok(revoked)
    }

    /// Records a refused login to a known account (nothing for an unknown email).
    async fn audit_login_refusal(
        &self,
        actor: &RequestActor,
        agent: Option<&agent::Model>,
        action: &'static str,
        outcome: &'static str,
    ) -> AgentResult<()> {
        if let Some(agent) = agent {
            let entry = audit::Entry {
                outcome,
                ..audit::Entry::succeeded(agent.workspace_id, action, "agent", agent.id)
            };
            audit::record(&self.db, actor, entry).await?;
        }
        Ok(())
    }

    /// Resolves a token to its agent and workspace.
    pub async fn validate(&self, token: &str) -> AgentResult<(AgentRecord, workspace::Model)> {
        let session = login_session::Entity::find_by_id(auth::token_hash(token))
            .one(&self.db)
            .await?
            .filter(|session| session.expires_at > Utc::now())
            .ok_or(AgentError::SessionInvalid)?;
        let agent = self
            .agent(session.workspace_id, session.agent_id)
            .await
            .map_err(|error| match error {
                AgentError::AgentNotFound => AgentError::SessionInvalid,
                other => other,
            })?;
        if agent.agent.disabled {
            return Err(AgentError::SessionInvalid);
        }
        let workspace = self.workspace(session.workspace_id).await?;
        Ok((agent, workspace))
    }

    /// Ends a session; unknown tokens are ignored.
    pub async fn logout(&self, actor: &RequestActor, token: &str) -> AgentResult<()> {
        let txn = self.db.begin().await?;
        let session = login_session::Entity::find_by_id(auth::token_hash(token))
            .one(&txn)
            .await?;
        if let Some(session) = session {
            login_session::Entity::delete_by_id(session.token_hash)
                .exec(&txn)
                .await?;
            let signed_out = RequestActor {
                actor_id: Some(session.agent_id.to_string()),
                ..actor.clone()
            };
            let entry = audit::Entry::succeeded(
                session.workspace_id,
                "auth.logout",
                "agent",
                session.agent_id,
            );
            audit::record(&txn, &signed_out, entry).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Sets an agent's status and records `AgentStatusChanged` in the same transaction.
    pub async fn set_status(
        &self,
        workspace_id: Uuid,
        agent_id: Uuid,
        status: Status,
    ) -> AgentResult<AgentRecord> {
        let record = self.agent(workspace_id, agent_id).await?;
        if record.agent.disabled && status != Status::Offline {
            return Err(AgentError::AgentDisabled);
        }
        let txn = self.db.begin().await?;
        let mut active: agent::ActiveModel = record.agent.clone().into();
        active.status = Set(status.as_str().to_owned());
        active.updated_at = Set(Utc::now());
        let agent = active.update(&txn).await?;
        self.announce_status(&txn, &agent, &record.department_ids, "set")
            .await?;
        txn.commit().await?;
        self.notifier.notify();
        metrics::counter!("switchboard_agent_status_changes_total", "status" => status.as_str(), "reason" => "set")
            .increment(1);
        Ok(AgentRecord {
            agent,
            department_ids: record.department_ids,
        })
    }

    /// Keeps a socket's presence lease alive until `ttl` from now; returns the agent's status.
    pub async fn renew_presence(
        &self,
        workspace_id: Uuid,
        agent_id: Uuid,
        connection_id: &str,
        ttl: Duration,
    ) -> AgentResult<Status> {
        let record = self.agent(workspace_id, agent_id).await?;
        if record.agent.disabled {
            return Err(AgentError::AgentDisabled);
        }
        let expires_at =
            Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(60));
        presence_lease::Entity::insert(presence_lease::ActiveModel {
            connection_id: Set(connection_id.to_owned()),
            agent_id: Set(agent_id),
            workspace_id: Set(workspace_id),
            expires_at: Set(expires_at),
        })
        .on_conflict(
            OnConflict::column(presence_lease::Column::ConnectionId)
                .update_column(presence_lease::Column::ExpiresAt)
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(Status::from_stored(&record.agent.status))
    }

    /// Ends a socket's lease now; the agent's grace period starts if it was the last one.
    pub async fn end_presence(
        &self,
        workspace_id: Uuid,
        agent_id: Uuid,
        connection_id: &str,
    ) -> AgentResult<()> {
        presence_lease::Entity::update_many()
            .col_expr(presence_lease::Column::ExpiresAt, Expr::value(Utc::now()))
            .filter(presence_lease::Column::ConnectionId.eq(connection_id))
            .filter(presence_lease::Column::AgentId.eq(agent_id))
            .filter(presence_lease::Column::WorkspaceId.eq(workspace_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Returns how many enabled agents have each status (`online`, `away`, `offline`), over
    /// every workspace, for the `switchboard_agents` gauge.
    pub async fn count_agents_by_status(&self) -> AgentResult<Vec<(String, i64)>> {
        Ok(agent::Entity::find()
            .select_only()
            .column(agent::Column::Status)
            .column_as(agent::Column::Id.count(), "agents")
            .filter(agent::Column::Disabled.eq(false))
            .group_by(agent::Column::Status)
            .into_tuple::<(String, i64)>()
            .all(&self.db)
            .await?)
    }

    /// Sets offline (reason "disconnected") every agent that has leases, all of them expired
    /// for longer than `grace`, and forgets those leases. Returns how many agents went offline.
    ///
    /// Agents that never had a lease (status set through the API only, such as bots) are left
    /// alone. Safe to run from several instances: the status change is conditional, so each
    /// disconnection is announced once.
    pub async fn expire_presence(&self, grace: Duration) -> AgentResult<usize> {
        let cutoff =
            Utc::now() - chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::zero());
        let stale: Vec<Uuid> = presence_lease::Entity::find()
            .filter(presence_lease::Column::ExpiresAt.lt(cutoff))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|lease| lease.agent_id)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut disconnected = 0;
        for agent_id in stale {
            let txn = self.db.begin().await?;
            let live = presence_lease::Entity::find()
                .filter(presence_lease::Column::AgentId.eq(agent_id))
                .filter(presence_lease::Column::ExpiresAt.gte(cutoff))
                .count(&txn)
                .await?;
            presence_lease::Entity::delete_many()
                .filter(presence_lease::Column::AgentId.eq(agent_id))
                .filter(presence_lease::Column::ExpiresAt.lt(cutoff))
                .exec(&txn)
                .await?;
            if live > 0 {
                // Another socket of the agent is alive: only the dead leases go.
                txn.commit().await?;
                continue;
            }
            let now = Utc::now();
            let updated = agent::Entity::update_many()
                .col_expr(agent::Column::Status, Expr::value(Status::Offline.as_str()))
                .col_expr(agent::Column::UpdatedAt, Expr::value(now))
                .filter(agent::Column::Id.eq(agent_id))
                .filter(agent::Column::Status.ne(Status::Offline.as_str()))
                .exec_with_returning(&txn)
                .await?;
            let Some(agent) = updated.into_iter().next() else {
                txn.commit().await?;
                continue;
            };
            let department_ids = agent_department::Entity::find()
                .filter(agent_department::Column::AgentId.eq(agent_id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|member| member.department_id)
                .collect::<Vec<_>>();
            self.announce_status(&txn, &agent, &department_ids, "disconnected")
                .await?;
            txn.commit().await?;
            self.notifier.notify();
            disconnected += 1;
            tracing::info!(%agent_id, "agent disconnected: presence expired");
            metrics::counter!("switchboard_agent_status_changes_total", "status" => "offline", "reason" => "disconnected")
                .increment(1);
        }
        Ok(disconnected)
    }

    /// Whether a visitor of the workspace (asking for `department_id`) can expect an answer
    /// now: within the department's hours, and with an enabled agent online (in it).
    pub async fn availability(
        &self,
        workspace_id: Uuid,
        department_id: Option<Uuid>,
    ) -> AgentResult<Availability> {
        self.workspace(workspace_id).await?;
        if let Some(department_id) = department_id {
            let department = department::Entity::find_by_id(department_id)
                .filter(department::Column::WorkspaceId.eq(workspace_id))
                .one(&self.db)
                .await?
                .ok_or(AgentError::DepartmentNotFound)?;
            let hours = hours_from_stored(department.business_hours.as_deref());
            if hours.is_some_and(|hours| !hours.is_open(Utc::now())) {
                return Ok(Availability::OutsideHours);
            }
        }
        let online = self
            .agents(workspace_id, department_id, Some(Status::Online))
            .await?
            .into_iter()
            .any(|record| !record.agent.disabled);
        Ok(if online {
            Availability::Open
        } else {
            Availability::NobodyOnline
        })
    }

    /// Lists the canned replies of a workspace: `agent_id`'s personal ones first, then the
    /// workspace's, each by shortcut.
    pub async fn canned_replies(
        &self,
        workspace_id: Uuid,
        agent_id: Option<Uuid>,
    ) -> AgentResult<Vec<canned_reply::Model>> {
        let mut scopes = vec![canned_reply::WORKSPACE_SCOPE.to_owned()];
        if let Some(agent_id) = agent_id {
            scopes.push(agent_id.to_string());
        }
        let mut replies = canned_reply::Entity::find()
            .filter(canned_reply::Column::WorkspaceId.eq(workspace_id))
            .filter(canned_reply::Column::Scope.is_in(scopes))
            .order_by_asc(canned_reply::Column::Shortcut)
            .all(&self.db)
            .await?;
        replies.sort_by_key(|reply| reply.scope == canned_reply::WORKSPACE_SCOPE);
        Ok(replies)
    }

    /// Returns one canned reply of a workspace.
    pub async fn canned_reply(
        &self,
        workspace_id: Uuid,
        id: Uuid,
    ) -> AgentResult<canned_reply::Model> {
        canned_reply::Entity::find_by_id(id)
            .filter(canned_reply::Column::WorkspaceId.eq(workspace_id))
            .one(&self.db)
            .await?
            .ok_or(AgentError::CannedReplyNotFound)
    }

    /// Creates a canned reply, personal to `owner` or shared by the workspace.
    pub async fn create_canned_reply(
        &self,
        workspace_id: Uuid,
        owner: Option<Uuid>,
        shortcut: &str,
        text: &str,
    ) -> AgentResult<canned_reply::Model> {
        self.workspace(workspace_id).await?;
        if let Some(owner) = owner {
            self.agent(workspace_id, owner).await?;
        }
        let now = Utc::now();
        canned_reply::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(workspace_id),
            scope: Set(owner.map_or_else(
                || canned_reply::WORKSPACE_SCOPE.to_owned(),
                |owner| owner.to_string(),
            )),
            shortcut: Set(shortcut.to_owned()),
            text: Set(text.to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await
        .map_err(shortcut_taken)
    }

    /// Changes a canned reply's shortcut or text.
    pub async fn update_canned_reply(
        &self,
        workspace_id: Uuid,
        id: Uuid,
        shortcut: Option<String>,
        text: Option<String>,
    ) -> AgentResult<canned_reply::Model> {
        let current = self.canned_reply(workspace_id, id).await?;
        let mut active: canned_reply::ActiveModel = current.into();
        if let Some(shortcut) = shortcut {
            active.shortcut = Set(shortcut);
        }
        if let Some(text) = text {
            active.text = Set(text);
        }
        active.updated_at = Set(Utc::now());
        active.update(&self.db).await.map_err(shortcut_taken)
    }

    /// Deletes a canned reply of a workspace.
    pub async fn delete_canned_reply(&self, workspace_id: Uuid, id: Uuid) -> AgentResult<()> {
        let deleted = canned_reply::Entity::delete_many()
            .filter(canned_reply::Column::Id.eq(id))
            .filter(canned_reply::Column::WorkspaceId.eq(workspace_id))
            .exec(&self.db)
            .await?
            .rows_affected;
        if deleted == 0 {
            return Err(AgentError::CannedReplyNotFound);
        }
        Ok(())
    }

    /// Records `AgentStatusChanged` for the agent's current status in `txn`'s outbox.
    async fn announce_status(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        agent: &agent::Model,
        department_ids: &[Uuid],
        reason: &str,
    ) -> AgentResult<()> {
        let status = Status::from_stored(&agent.status);
        let (workspace_id, agent_id) = (agent.workspace_id, agent.id);
        let event_id = Uuid::now_v7().to_string();
        let envelope = events::Envelope {
            event_id: event_id.clone(),
            occurred_at: Some(switchboard_platform::grpc::timestamp(Utc::now())),
            workspace_id: workspace_id.to_string(),
            payload: Some(events::envelope::Payload::AgentStatusChanged(
                events::AgentStatusChanged {
                    agent_id: agent_id.to_string(),
                    status: crate::grpc::status_to_proto(status) as i32,
                    department_ids: department_ids.iter().map(ToString::to_string).collect(),
                    reason: reason.to_owned(),
                },
            )),
        };
        OUTBOX
            .enqueue(
                txn,
                &event_id,
                &self.subjects.agent_presence(&agent_id.to_string()),
                envelope.encode_to_vec(),
            )
            .await?;
        Ok(())
    }
}

fn new_workspace(name: &str) -> workspace::ActiveModel {
    workspace::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_owned()),
        site_key: Set(format!("site_{}", auth::random_hex(12))),
        secret: Set(format!("secret_{}", auth::random_hex(32))),
        created_at: Set(Utc::now()),
    }
}

fn new_agent_model(new: &NewAgent, password_hash: String) -> agent::ActiveModel {
    let now = Utc::now();
    agent::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(new.workspace_id),
        name: Set(new.name.clone()),
        email: Set(new.email.trim().to_lowercase()),
        role: Set(new.role.as_str().to_owned()),
        password_hash: Set(password_hash),
        max_concurrent: Set(new.max_concurrent),
        status: Set(Status::Offline.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        skills: Set(skills_to_stored(&new.skills)),
        disabled: Set(false),
    }
}

/// Replaces an agent's department memberships inside `txn`.
async fn set_memberships(
    txn: &sea_orm::DatabaseTransaction,
    agent_id: Uuid,
    department_ids: &[Uuid],
) -> AgentResult<()> {
    agent_department::Entity::delete_many()
        .filter(agent_department::Column::AgentId.eq(agent_id))
        .exec(txn)
        .await?;
    for department_id in department_ids {
        agent_department::Entity::insert(agent_department::ActiveModel {
            agent_id: Set(agent_id),
            department_id: Set(*department_id),
        })
        .on_conflict(
            OnConflict::columns([
                agent_department::Column::AgentId,
                agent_department::Column::DepartmentId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Ends every login session of an agent inside `txn`.
async fn end_sessions(txn: &sea_orm::DatabaseTransaction, agent_id: Uuid) -> AgentResult<()> {
    login_session::Entity::delete_many()
        .filter(login_session::Column::AgentId.eq(agent_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Maps a unique violation on a canned reply's shortcut to a field error.
fn shortcut_taken(error: sea_orm::DbErr) -> AgentError {
    if is_unique_violation(&error) {
        AgentError::invalid("shortcut", "a canned reply with this shortcut exists")
    } else {
        error.into()
    }
}

/// Maps a unique violation on a department's name to a field error.
fn department_name_taken(error: sea_orm::DbErr) -> AgentError {
    if is_unique_violation(&error) {
        AgentError::invalid("name", "a department with this name exists")
    } else {
        error.into()
    }
}

/// Returns whether `error` is a unique-key violation (on PostgreSQL or SQLite).
fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Names of the columns an active model sets (what an update changes).
fn set_columns<A: ActiveModelTrait>(active: &A) -> Vec<String> {
    use sea_orm::{IdenStatic, Iterable};
    <A::Entity as EntityTrait>::Column::iter()
        .filter(|column| active.get(*column).is_set())
        .map(|column| column.as_str().to_owned())
        .collect()
}

/// The public id of a session: the first 16 hex digits of its token's SHA-256 (the token itself
/// cannot be derived from it).
pub fn session_id(token_hash: &str) -> String {
    token_hash.chars().take(16).collect()
}
