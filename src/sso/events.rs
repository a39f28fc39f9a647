//! Audit event names for single sign-on and joining (written through
//! `directory::audit`, in the transaction of the change they record).

pub use crate::directory::audit::USER_JOIN;

pub const SSO_CONFIGURED: &str = "sso_configured";
pub const SSO_CHECKED: &str = "sso_checked";
pub const SSO_POLICY_UPDATE: &str = "sso_policy_update";
pub const SSO_SWITCHED: &str = "sso_switched";
pub const SSO_DEADLINE_MISSED: &str = "sso_deadline_missed";
pub const SSO_RECOVERED: &str = "sso_recovered";
pub const INVITATION_LINK: &str = "user_invitation_link";
pub const INVITATION_MAILED: &str = "user_invitation_mailed";
