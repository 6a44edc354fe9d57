//! An agent's TOTP two-factor secret: pending until confirmed with a first code.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_totp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: Uuid,
    /// Base32 (RFC 4648, no padding) shared secret, 160 bits.
    pub secret: String,
    /// Set once a code confirmed the authenticator; logins need a code from then on.
    pub enabled_at: Option<DateTimeUtc>,
    /// The last 30-second step a code was accepted for: a code is good once.
    pub last_step: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
