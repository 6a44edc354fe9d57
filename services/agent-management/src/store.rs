//! Queries and transactions of agent management. The only module that talks SQL.
//!
//! Every lookup is scoped by workspace: an id from another workspace is reported exactly like an
//! id that does not exist.

use crate::auth;
use crate::db::OUTBOX;
use crate::db::entity::{agent, agent_department, department, login_session, workspace};
use crate::{AgentError, AgentResult};
use chrono::Utc;
use prost::Message as _;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use std::collections::HashMap;
use std::time::Duration;
use switchboard_platform::outbox::OutboxNotifier;
use switchboard_platform::subjects::Subjects;
use switchboard_proto::events::v1 as events;
use uuid::Uuid;

/// Role of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    /// Returns the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
        }
    }
}

/// Declared availability of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Online,
    Away,
    Offline,
}

impl Status {
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
        }
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
        workspace_id: Uuid,
        name: &str,
    ) -> AgentResult<department::Model> {
        self.workspace(workspace_id).await?;
        let model = department::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(workspace_id),
            name: Set(name.to_owned()),
            created_at: Set(Utc::now()),
        };
        match model.insert(&self.db).await {
            Ok(model) => Ok(model),
            Err(error) if is_unique_violation(&error) => Err(AgentError::invalid(
                "name",
                "a department with this name exists",
            )),
            Err(error) => Err(error.into()),
        }
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
    pub async fn create_agent(&self, new: NewAgent) -> AgentResult<AgentRecord> {
        self.workspace(new.workspace_id).await?;
        let known = department::Entity::find()
            .filter(department::Column::WorkspaceId.eq(new.workspace_id))
            .filter(department::Column::Id.is_in(new.department_ids.clone()))
            .count(&self.db)
            .await?;
        if known != new.department_ids.len() as u64 {
            return Err(AgentError::DepartmentNotFound);
        }
        let password_hash = auth::hash_password(new.password.clone()).await?;
        let txn = self.db.begin().await?;
        let agent = match new_agent_model(&new, password_hash).insert(&txn).await {
            Ok(agent) => agent,
            Err(error) if is_unique_violation(&error) => return Err(AgentError::EmailTaken),
            Err(error) => return Err(error.into()),
        };
        for department_id in &new.department_ids {
            agent_department::Entity::insert(agent_department::ActiveModel {
                agent_id: Set(agent.id),
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
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(AgentRecord {
            agent,
            department_ids: new.department_ids,
        })
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
    pub async fn login(&self, email: &str, password: &str) -> AgentResult<LoginOutcome> {
        let agent = agent::Entity::find()
            .filter(agent::Column::Email.eq(email.trim().to_lowercase()))
            .one(&self.db)
            .await?;
        let stored = agent.as_ref().map(|agent| agent.password_hash.clone());
        if !auth::verify_password(password.to_owned(), stored).await? {
            return Err(AgentError::InvalidCredentials);
        }
        let agent = agent.ok_or(AgentError::InvalidCredentials)?;
        let token = auth::new_token();
        let now = Utc::now();
        let expires_at = now
            + chrono::Duration::from_std(self.session_ttl).unwrap_or(chrono::Duration::hours(12));
        login_session::ActiveModel {
            token_hash: Set(auth::token_hash(&token)),
            agent_id: Set(agent.id),
            workspace_id: Set(agent.workspace_id),
            created_at: Set(now),
            expires_at: Set(expires_at),
        }
        .insert(&self.db)
        .await?;
        let agent = self.with_departments(vec![agent]).await?.remove(0);
        Ok(LoginOutcome {
            token,
            agent,
            expires_at,
        })
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
        let workspace = self.workspace(session.workspace_id).await?;
        Ok((agent, workspace))
    }

    /// Ends a session; unknown tokens are ignored.
    pub async fn logout(&self, token: &str) -> AgentResult<()> {
        login_session::Entity::delete_by_id(auth::token_hash(token))
            .exec(&self.db)
            .await?;
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
        let txn = self.db.begin().await?;
        let mut active: agent::ActiveModel = record.agent.clone().into();
        active.status = Set(status.as_str().to_owned());
        active.updated_at = Set(Utc::now());
        let agent = active.update(&txn).await?;
        let event_id = Uuid::now_v7().to_string();
        let envelope = events::Envelope {
            event_id: event_id.clone(),
            occurred_at: Some(switchboard_platform::grpc::timestamp(Utc::now())),
            workspace_id: workspace_id.to_string(),
            payload: Some(events::envelope::Payload::AgentStatusChanged(
                events::AgentStatusChanged {
                    agent_id: agent_id.to_string(),
                    status: crate::grpc::status_to_proto(status) as i32,
                    department_ids: record
                        .department_ids
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                },
            )),
        };
        OUTBOX
            .enqueue(
                &txn,
                &event_id,
                &self.subjects.agent_presence(&agent_id.to_string()),
                envelope.encode_to_vec(),
            )
            .await?;
        txn.commit().await?;
        self.notifier.notify();
        metrics::counter!("switchboard_agent_status_changes_total", "status" => status.as_str())
            .increment(1);
        Ok(AgentRecord {
            agent,
            department_ids: record.department_ids,
        })
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
    }
}

/// Returns whether `error` is a unique-key violation (on PostgreSQL or SQLite).
fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
