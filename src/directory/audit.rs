//! Writing audit events, named as JumpCloud's Directory Insights names them.

use rusqlite::Connection;

use crate::store::events::{self, Event, Outcome};
use crate::store::{now_timestamp, StoreError};

pub const USER_CREATE: &str = "user_create_provision";
pub const USER_UPDATE: &str = "user_update_provision";
pub const USER_DEPROVISION: &str = "user_deprovision";
pub const USER_DELETE: &str = "user_delete_provision";
pub const USER_LOOKUP: &str = "user_lookup_provision";
pub const GROUP_CREATE: &str = "group_create_provision";
pub const GROUP_UPDATE: &str = "group_update_provision";
pub const GROUP_DELETE: &str = "group_delete_provision";
pub const GROUP_LOOKUP: &str = "group_lookup_provision";
pub const USER_JOIN: &str = "user_join";
pub const INTEGRATION_REAUTH: &str = "idm_integration_reauth";
pub const MAPPING_UPDATE: &str = "mapping_table_update";

/// The resource an event is about.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub resource_type: Option<&'static str>,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl Subject {
    pub fn user(id: &str, name: &str) -> Subject {
        Subject {
            resource_type: Some("User"),
            id: Some(id.to_owned()),
            name: Some(name.to_owned()),
        }
    }
    pub fn group(id: &str, name: &str) -> Subject {
        Subject {
            resource_type: Some("Group"),
            id: Some(id.to_owned()),
            name: Some(name.to_owned()),
        }
    }
    /// A user known only by the id a request named.
    pub fn user_id(id: &str) -> Subject {
        Subject {
            resource_type: Some("User"),
            id: Some(id.to_owned()),
            name: None,
        }
    }
    /// A group known only by the id a request named.
    pub fn group_id(id: &str) -> Subject {
        Subject {
            resource_type: Some("Group"),
            id: Some(id.to_owned()),
            name: None,
        }
    }
    pub fn users() -> Subject {
        Subject {
            resource_type: Some("User"),
            ..Default::default()
        }
    }
    pub fn groups() -> Subject {
        Subject {
            resource_type: Some("Group"),
            ..Default::default()
        }
    }
}

pub fn success(
    conn: &Connection,
    name: &str,
    subject: Subject,
    attributes: Vec<String>,
    actor: &str,
) -> Result<(), StoreError> {
    events::insert(
        conn,
        &Event {
            seq: 0,
            time: now_timestamp(),
            name: name.to_owned(),
            outcome: Outcome::Success,
            resource_type: subject.resource_type.map(str::to_owned),
            resource_id: subject.id,
            resource_name: subject.name,
            attributes,
            actor: Some(actor.to_owned()),
            status: None,
            detail: None,
        },
    )?;
    Ok(())
}

pub fn failure(
    conn: &Connection,
    name: &str,
    subject: Subject,
    actor: &str,
    status: u16,
    detail: &str,
) -> Result<(), StoreError> {
    events::insert(
        conn,
        &Event {
            seq: 0,
            time: now_timestamp(),
            name: name.to_owned(),
            outcome: Outcome::Failure,
            resource_type: subject.resource_type.map(str::to_owned),
            resource_id: subject.id,
            resource_name: subject.name,
            attributes: Vec::new(),
            actor: Some(actor.to_owned()),
            status: Some(status),
            detail: Some(detail.to_owned()),
        },
    )?;
    Ok(())
}

/// Top-level attribute names of a document, for the event's `attributes`.
pub fn attribute_names(doc: &serde_json::Value) -> Vec<String> {
    doc.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}
