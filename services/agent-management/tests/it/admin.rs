//! Changing departments and agents: routing settings, skills, roles, disabling and password
//! resets, with every bad change refused and nothing changed.

use super::*;

fn list(values: &[&str]) -> Option<pb::StringList> {
    Some(pb::StringList {
        values: values.iter().map(|value| (*value).to_owned()).collect(),
    })
}

async fn login(app: &mut Spawned, email: &str, password: &str) -> Result<String, tonic::Status> {
    app.client
        .login(pb::LoginRequest {
            email: email.into(),
            password: password.into(),
            totp_code: None,
        })
        .await
        .map(|response| response.into_inner().token)
}

async fn validate(app: &mut Spawned, token: &str) -> Result<pb::Agent, tonic::Status> {
    app.client
        .validate_token(pb::ValidateTokenRequest {
            token: token.into(),
        })
        .await
        .map(|response| response.into_inner().agent.expect("agent"))
}

#[tokio::test]
async fn departments_keep_routing_settings_and_refuse_bad_changes() {
    let mut app = spawn(TestDb::fresh().await.url).await;
    let workspace = bootstrap(&mut app.client)
        .await
        .workspace
        .expect("workspace");
    let created = app
        .client
        .create_department(pb::CreateDepartmentRequest {
            workspace_id: workspace.id.clone(),
            name: "Sales".into(),
            strategy: pb::RoutingStrategy::RoundRobin as i32,
            sticky_window_secs: 600,
            required_skills: vec![" Lang:ZH ".into(), "billing".into(), "lang:zh".into()],
            ..Default::default()
        })
        .await
        .expect("department")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(created.strategy, pb::RoutingStrategy::RoundRobin as i32);
    assert_eq!(created.sticky_window_secs, 600);
    assert_eq!(
        created.required_skills,
        ["billing", "lang:zh"],
        "normalised"
    );

    let updated = app
        .client
        .update_department(pb::UpdateDepartmentRequest {
            workspace_id: workspace.id.clone(),
            department_id: created.id.clone(),
            strategy: Some(pb::RoutingStrategy::LongestIdle as i32),
            ..Default::default()
        })
        .await
        .expect("update")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(updated.strategy, pb::RoutingStrategy::LongestIdle as i32);
    assert_eq!(updated.name, "Sales", "fields not set stay");
    assert_eq!(updated.required_skills, ["billing", "lang:zh"]);

    let other = app
        .client
        .create_workspace(pb::CreateWorkspaceRequest {
            name: "Other".into(),
        })
        .await
        .expect("workspace")
        .into_inner()
        .workspace
        .expect("workspace");
    let bad = [
        (
            pb::UpdateDepartmentRequest {
                sticky_window_secs: Some(31 * 24 * 3600),
                ..Default::default()
            },
            Code::InvalidArgument,
        ),
        (
            pb::UpdateDepartmentRequest {
                strategy: Some(99),
                ..Default::default()
            },
            Code::InvalidArgument,
        ),
        (
            pb::UpdateDepartmentRequest {
                name: Some("  ".into()),
                ..Default::default()
            },
            Code::InvalidArgument,
        ),
        (
            pb::UpdateDepartmentRequest {
                required_skills: list(&["ok", "bad\u{7}"]),
                ..Default::default()
            },
            Code::InvalidArgument,
        ),
        (
            pb::UpdateDepartmentRequest {
                workspace_id: other.id.clone(),
                name: Some("Stolen".into()),
                ..Default::default()
            },
            Code::NotFound,
        ),
    ];
    for (mut request, code) in bad {
        if request.workspace_id.is_empty() {
            request.workspace_id = workspace.id.clone();
        }
        request.department_id = created.id.clone();
        let refused = app
            .client
            .update_department(request.clone())
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), code, "{request:?}");
    }
    let listed = app
        .client
        .list_departments(pb::ListDepartmentsRequest {
            workspace_id: workspace.id.clone(),
        })
        .await
        .expect("list")
        .into_inner()
        .departments;
    assert_eq!(listed, [updated], "nothing changed");
}

#[tokio::test]
async fn agents_can_be_changed_disabled_and_given_a_new_password() {
    let mut app = spawn(TestDb::fresh().await.url).await;
    let workspace = bootstrap(&mut app.client)
        .await
        .workspace
        .expect("workspace");
    let department = app
        .client
        .create_department(pb::CreateDepartmentRequest {
            workspace_id: workspace.id.clone(),
            name: "Support".into(),
            ..Default::default()
        })
        .await
        .expect("department")
        .into_inner()
        .department
        .expect("department");
    let agent = app
        .client
        .create_agent(pb::CreateAgentRequest {
            workspace_id: workspace.id.clone(),
            name: "Bob".into(),
            email: "bob@example.com".into(),
            password: "password-123".into(),
            max_concurrent: 2,
            skills: vec!["Billing".into()],
            ..Default::default()
        })
        .await
        .expect("agent")
        .into_inner()
        .agent
        .expect("agent");
    assert_eq!(agent.skills, ["billing"]);
    let token = login(&mut app, "bob@example.com", "password-123")
        .await
        .expect("login");

    let changed = app
        .client
        .update_agent(pb::UpdateAgentRequest {
            workspace_id: workspace.id.clone(),
            agent_id: agent.id.clone(),
            name: Some("Bobby".into()),
            role: Some(switchboard_proto::common::v1::AgentRole::Supervisor as i32),
            max_concurrent: Some(5),
            skills: list(&["lang:zh"]),
            department_ids: list(&[&department.id]),
            ..Default::default()
        })
        .await
        .expect("update")
        .into_inner()
        .agent
        .expect("agent");
    assert_eq!(changed.name, "Bobby");
    assert_eq!(
        changed.role,
        switchboard_proto::common::v1::AgentRole::Supervisor as i32
    );
    assert_eq!(changed.max_concurrent, 5);
    assert_eq!(changed.skills, ["lang:zh"]);
    assert_eq!(changed.department_ids, std::slice::from_ref(&department.id));
    assert_eq!(
        validate(&mut app, &token).await.expect("still valid").name,
        "Bobby"
    );

    let bad = [
        (
            pb::UpdateAgentRequest {
                max_concurrent: Some(101),
                ..Default::default()
            },
            Code::InvalidArgument,
        ),
        (
            pb::UpdateAgentRequest {
                role: Some(42),
                ..Default::default()
            },
            Code::InvalidArgument,
        ),
        (
            pb::UpdateAgentRequest {
                department_ids: list(&[&uuid::Uuid::now_v7().to_string()]),
                ..Default::default()
            },
            Code::NotFound,
        ),
        (
            pb::UpdateAgentRequest {
                department_ids: list(&["not-a-uuid"]),
                ..Default::default()
            },
            Code::InvalidArgument,
        ),
        (
            pb::UpdateAgentRequest {
                skills: list(&[&"x".repeat(65)]),
                ..Default::default()
            },
            Code::InvalidArgument,
        ),
    ];
    for (mut request, code) in bad {
        request.workspace_id = workspace.id.clone();
        request.agent_id = agent.id.clone();
        let refused = app
            .client
            .update_agent(request.clone())
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), code, "{request:?}");
    }
    let unchanged = app
        .client
        .get_agent(pb::GetAgentRequest {
            workspace_id: workspace.id.clone(),
            agent_id: agent.id.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .agent
        .expect("agent");
    assert_eq!(unchanged, changed, "refused changes changed nothing");

    // Disabling ends sessions, refuses logins and going online, and sets the agent offline.
    app.client
        .set_agent_status(pb::SetAgentStatusRequest {
            workspace_id: workspace.id.clone(),
            agent_id: agent.id.clone(),
            status: AgentStatus::Online as i32,
        })
        .await
        .expect("online");
    let disabled = app
        .client
        .update_agent(pb::UpdateAgentRequest {
            workspace_id: workspace.id.clone(),
            agent_id: agent.id.clone(),
            disabled: Some(true),
            ..Default::default()
        })
        .await
        .expect("disable")
        .into_inner()
        .agent
        .expect("agent");
    assert!(disabled.disabled);
    assert_eq!(disabled.status, AgentStatus::Offline as i32);
    assert_eq!(
        validate(&mut app, &token)
            .await
            .expect_err("session ended")
            .code(),
        Code::Unauthenticated
    );
    assert_eq!(
        login(&mut app, "bob@example.com", "password-123")
            .await
            .expect_err("disabled")
            .code(),
        Code::PermissionDenied
    );
    let wrong_password = login(&mut app, "bob@example.com", "wrong-password")
        .await
        .expect_err("wrong password");
    assert_eq!(
        wrong_password.code(),
        Code::Unauthenticated,
        "a wrong password says nothing about the account"
    );
    let online = app
        .client
        .set_agent_status(pb::SetAgentStatusRequest {
            workspace_id: workspace.id.clone(),
            agent_id: agent.id.clone(),
            status: AgentStatus::Online as i32,
        })
        .await
        .expect_err("disabled agents cannot go online");
    assert_eq!(online.code(), Code::PermissionDenied);
    app.client
        .update_agent(pb::UpdateAgentRequest {
            workspace_id: workspace.id.clone(),
            agent_id: agent.id.clone(),
            disabled: Some(false),
            ..Default::default()
        })
        .await
        .expect("enable");
    let token = login(&mut app, "bob@example.com", "password-123")
        .await
        .expect("enabled again");

    // A new password ends sessions; the old password stops working.
    let short = app
        .client
        .reset_agent_password(pb::ResetAgentPasswordRequest {
            workspace_id: workspace.id.clone(),
            agent_id: agent.id.clone(),
            new_password: "short".into(),
        })
        .await
        .expect_err("too short");
    assert_eq!(short.code(), Code::InvalidArgument);
    assert!(
        validate(&mut app, &token).await.is_ok(),
        "refused reset changed nothing"
    );
    app.client
        .reset_agent_password(pb::ResetAgentPasswordRequest {
            workspace_id: workspace.id.clone(),
            agent_id: agent.id.clone(),
            new_password: "new-password-456".into(),
        })
        .await
        .expect("reset");
    assert_eq!(
        validate(&mut app, &token).await.expect_err("ended").code(),
        Code::Unauthenticated
    );
    assert!(
        login(&mut app, "bob@example.com", "password-123")
            .await
            .is_err()
    );
    login(&mut app, "bob@example.com", "new-password-456")
        .await
        .expect("new password works");
}

#[tokio::test]
async fn the_last_enabled_admin_cannot_be_disabled_or_demoted() {
    let mut app = spawn(TestDb::fresh().await.url).await;
    let boot = bootstrap(&mut app.client).await;
    let workspace = boot.workspace.expect("workspace");
    let admin = boot.admin.expect("admin");
    let demote = pb::UpdateAgentRequest {
        workspace_id: workspace.id.clone(),
        agent_id: admin.id.clone(),
        role: Some(switchboard_proto::common::v1::AgentRole::Agent as i32),
        ..Default::default()
    };
    let disable = pb::UpdateAgentRequest {
        workspace_id: workspace.id.clone(),
        agent_id: admin.id.clone(),
        disabled: Some(true),
        ..Default::default()
    };
    for request in [demote.clone(), disable.clone()] {
        let refused = app
            .client
            .update_agent(request)
            .await
            .expect_err("last admin");
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert_eq!(refused.message(), "the workspace needs an enabled admin");
    }
    assert!(
        login(&mut app, "ada@example.com", "s3cret-password")
            .await
            .is_ok()
    );
    app.client
        .create_agent(pb::CreateAgentRequest {
            workspace_id: workspace.id.clone(),
            name: "Second Admin".into(),
            email: "second@example.com".into(),
            password: "password-123".into(),
            role: switchboard_proto::common::v1::AgentRole::Admin as i32,
            ..Default::default()
        })
        .await
        .expect("second admin");
    let demoted = app
        .client
        .update_agent(demote)
        .await
        .expect("another admin remains")
        .into_inner()
        .agent
        .expect("agent");
    assert_eq!(
        demoted.role,
        switchboard_proto::common::v1::AgentRole::Agent as i32
    );
}

/// Hours in a zone where it is now between 06:00 and 18:00, open all of today (local) or only
/// tomorrow, so the test never runs near a boundary.
fn hours_now(open_today: bool) -> pb::BusinessHours {
    use chrono::{Datelike, Timelike};
    let now = chrono::Utc::now();
    let (zone, offset) = if now.hour() >= 12 {
        ("Etc/GMT+6", -6)
    } else {
        ("Etc/GMT-6", 6)
    };
    let local = now + chrono::Duration::hours(offset);
    let today = local.weekday().number_from_monday();
    let weekday = if open_today { today } else { today % 7 + 1 };
    pb::BusinessHours {
        time_zone: zone.to_owned(),
        intervals: vec![pb::OpeningInterval {
            weekday,
            open: "00:00".into(),
            close: "23:59".into(),
        }],
    }
}

#[tokio::test]
async fn availability_follows_business_hours_and_who_is_online() {
    let mut app = spawn(TestDb::fresh().await.url).await;
    let boot = bootstrap(&mut app.client).await;
    let workspace = boot.workspace.expect("workspace");
    let admin = boot.admin.expect("admin");
    let client = app.client.clone();
    let availability = |department: Option<String>| {
        let mut client = client.clone();
        let workspace_id = workspace.id.clone();
        async move {
            let answer = client
                .get_availability(pb::GetAvailabilityRequest {
                    workspace_id,
                    department_id: department,
                })
                .await
                .expect("availability")
                .into_inner();
            (answer.open, answer.reason)
        }
    };
    let bad_hours = [
        pb::BusinessHours {
            time_zone: "Mars/Olympus".into(),
            intervals: vec![],
        },
        pb::BusinessHours {
            time_zone: "UTC".into(),
            intervals: vec![pb::OpeningInterval {
                weekday: 8,
                open: "09:00".into(),
                close: "18:00".into(),
            }],
        },
        pb::BusinessHours {
            time_zone: "UTC".into(),
            intervals: vec![pb::OpeningInterval {
                weekday: 1,
                open: "18:00".into(),
                close: "09:00".into(),
            }],
        },
    ];
    for hours in bad_hours {
        let refused = app
            .client
            .create_department(pb::CreateDepartmentRequest {
                workspace_id: workspace.id.clone(),
                name: "Night".into(),
                business_hours: Some(hours.clone()),
                ..Default::default()
            })
            .await
            .expect_err("bad hours");
        assert_eq!(refused.code(), Code::InvalidArgument, "{hours:?}");
    }
    let closed = app
        .client
        .create_department(pb::CreateDepartmentRequest {
            workspace_id: workspace.id.clone(),
            name: "Sales".into(),
            business_hours: Some(hours_now(false)),
            ..Default::default()
        })
        .await
        .expect("department")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(closed.business_hours, Some(hours_now(false)));
    let listed = app
        .client
        .list_departments(pb::ListDepartmentsRequest {
            workspace_id: workspace.id.clone(),
        })
        .await
        .expect("list")
        .into_inner()
        .departments;
    assert_eq!(listed.len(), 1, "refused departments were not created");

    assert_eq!(
        availability(None).await,
        (false, "nobody_online".to_owned())
    );
    assert_eq!(
        availability(Some(closed.id.clone())).await,
        (false, "outside_hours".to_owned())
    );
    app.client
        .update_agent(pb::UpdateAgentRequest {
            workspace_id: workspace.id.clone(),
            agent_id: admin.id.clone(),
            department_ids: list(&[&closed.id]),
            ..Default::default()
        })
        .await
        .expect("join");
    app.client
        .set_agent_status(pb::SetAgentStatusRequest {
            workspace_id: workspace.id.clone(),
            agent_id: admin.id.clone(),
            status: AgentStatus::Online as i32,
        })
        .await
        .expect("online");
    assert_eq!(availability(None).await, (true, String::new()));
    assert_eq!(
        availability(Some(closed.id.clone())).await,
        (false, "outside_hours".to_owned()),
        "someone online does not open a closed department"
    );
    app.client
        .update_department(pb::UpdateDepartmentRequest {
            workspace_id: workspace.id.clone(),
            department_id: closed.id.clone(),
            business_hours: Some(hours_now(true)),
            ..Default::default()
        })
        .await
        .expect("open today");
    assert_eq!(
        availability(Some(closed.id.clone())).await,
        (true, String::new())
    );
    let cleared = app
        .client
        .update_department(pb::UpdateDepartmentRequest {
            workspace_id: workspace.id.clone(),
            department_id: closed.id.clone(),
            clear_business_hours: true,
            ..Default::default()
        })
        .await
        .expect("clear")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(cleared.business_hours, None);
    let unknown = app
        .client
        .get_availability(pb::GetAvailabilityRequest {
            workspace_id: workspace.id.clone(),
            department_id: Some(uuid::Uuid::now_v7().to_string()),
        })
        .await
        .expect_err("unknown department");
    assert_eq!(unknown.code(), Code::NotFound);
}
