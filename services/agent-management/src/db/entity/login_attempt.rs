//! Failed logins of one email address, for throttling and lockout.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempt")]
pub struct Model {
    /// The email as typed, trimmed and lower-cased (known or not: no enumeration).
    #[sea_orm(primary_key, auto_increment = false)]
    pub email: String,
    /// Failures since `window_started_at`.
    pub failures: i32,
    pub window_started_at: DateTimeUtc,
    /// Logins are refused, without checking the password, until then.
    pub locked_until: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
