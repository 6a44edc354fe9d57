//! Workspaces, departments, agents, memberships, login sessions and the outbox.

use crate::db::OUTBOX;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Workspace {
    Table,
    Id,
    Name,
    SiteKey,
    Secret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Department {
    Table,
    Id,
    WorkspaceId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Agent {
    Table,
    Id,
    WorkspaceId,
    Name,
    Email,
    Role,
    PasswordHash,
    MaxConcurrent,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AgentDepartment {
    Table,
    AgentId,
    DepartmentId,
}

#[derive(DeriveIden)]
enum LoginSession {
    Table,
    TokenHash,
    AgentId,
    WorkspaceId,
    CreatedAt,
    ExpiresAt,
}

// The trait's async_trait signature elides SchemaManager's lifetime; spelling it breaks the match.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workspace::Table)
                    .col(pk_uuid(Workspace::Id))
                    .col(string(Workspace::Name))
                    .col(string_uniq(Workspace::SiteKey))
                    .col(string(Workspace::Secret))
                    .col(timestamp_with_time_zone(Workspace::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Department::Table)
                    .col(pk_uuid(Department::Id))
                    .col(uuid(Department::WorkspaceId))
                    .col(string(Department::Name))
                    .col(timestamp_with_time_zone(Department::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Department::Table, Department::WorkspaceId)
                            .to(Workspace::Table, Workspace::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("department_workspace_name")
                    .table(Department::Table)
                    .col(Department::WorkspaceId)
                    .col(Department::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Agent::Table)
                    .col(pk_uuid(Agent::Id))
                    .col(uuid(Agent::WorkspaceId))
                    .col(string(Agent::Name))
                    .col(string_uniq(Agent::Email))
                    .col(string(Agent::Role))
                    .col(string(Agent::PasswordHash))
                    .col(integer(Agent::MaxConcurrent))
                    .col(string(Agent::Status))
                    .col(timestamp_with_time_zone(Agent::CreatedAt))
                    .col(timestamp_with_time_zone(Agent::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Agent::Table, Agent::WorkspaceId)
                            .to(Workspace::Table, Workspace::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("agent_workspace")
                    .table(Agent::Table)
                    .col(Agent::WorkspaceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgentDepartment::Table)
                    .col(uuid(AgentDepartment::AgentId))
                    .col(uuid(AgentDepartment::DepartmentId))
                    .primary_key(
                        Index::create()
                            .col(AgentDepartment::AgentId)
                            .col(AgentDepartment::DepartmentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AgentDepartment::Table, AgentDepartment::AgentId)
                            .to(Agent::Table, Agent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AgentDepartment::Table, AgentDepartment::DepartmentId)
                            .to(Department::Table, Department::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginSession::Table)
                    .col(string(LoginSession::TokenHash).primary_key())
                    .col(uuid(LoginSession::AgentId))
                    .col(uuid(LoginSession::WorkspaceId))
                    .col(timestamp_with_time_zone(LoginSession::CreatedAt))
                    .col(timestamp_with_time_zone(LoginSession::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoginSession::Table, LoginSession::AgentId)
                            .to(Agent::Table, Agent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_table(OUTBOX.create_table()).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new(OUTBOX.table())).to_owned())
            .await?;
        for table in [
            LoginSession::Table.into_iden(),
            AgentDepartment::Table.into_iden(),
            Agent::Table.into_iden(),
            Department::Table.into_iden(),
            Workspace::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
