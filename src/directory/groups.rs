//! Groups: built-in and the team's own. Membership changes are applied as row deltas
//! inside the writer's transaction, never as a read-modify-write of the member list, so
//! concurrent PATCHes to one group cannot lose each other's members.

use keybridge_scim::filter::Filter;
use keybridge_scim::patch::{apply_patch, MemberChange, PatchOp};
use keybridge_scim::path::AttrPath;
use keybridge_scim::resource::NormalizedGroup;
use keybridge_scim::schema::{ResourceType, CORE_GROUP};
use keybridge_scim::{username_key, ScimError};
use rusqlite::Connection;
use serde_json::{json, Value};

use super::audit::{self, Subject};
use super::people::changed_attributes;
use super::{
    check_precondition, new_id, render, required_text, Actor, Directory, DirectoryError,
    Precondition,
};
use crate::store::groups::{self, GroupKind, GroupRow};
use crate::store::{now_timestamp, people};

/// Creates Owners and Administrators when the store is new.
pub(super) fn ensure_builtin_groups(conn: &Connection) -> Result<(), DirectoryError> {
    for (kind, name) in [
        (GroupKind::Owners, "Owners"),
        (GroupKind::Administrators, "Administrators"),
    ] {
        if groups::by_kind(conn, kind)?.is_some() {
            continue;
        }
        let now = now_timestamp();
        let row = GroupRow {
            seq: 0,
            id: new_id(),
            display_name: name.into(),
            display_name_key: username_key(name),
            external_id: None,
            kind,
            managed: false,
            doc: json!({ "displayName": name }),
            version: 1,
            created: now.clone(),
            modified: now,
        };
        groups::insert(conn, &row)?;
    }
    Ok(())
}

impl Directory {
    /// `POST /Groups`.
    pub async fn create_group(
        &self,
        actor: &Actor,
        body: Value,
        base: &str,
    ) -> Result<Value, DirectoryError> {
        let group = match keybridge_scim::resource::normalize_group(&body) {
            Ok(g) => g,
            Err(e) => {
                return Err(self
                    .reject(audit::GROUP_CREATE, Subject::groups(), actor, e)
                    .await)
            }
        };
        let base = base.to_owned();
        self.audited_write(
            audit::GROUP_CREATE,
            Subject::groups(),
            actor,
            move |conn, actor| create(conn, group, actor, &base),
        )
        .await
    }

    /// `GET /Groups/{id}`.
    pub async fn get_group(
        &self,
        id: &str,
        base: &str,
        with_members: bool,
    ) -> Result<Value, DirectoryError> {
        let (id, base) = (id.to_owned(), base.to_owned());
        self.store
            .read(move |conn| {
                let row = groups::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
                Ok(render::group(conn, &row, &base, with_members)?)
            })
            .await
    }

    /// `GET /Groups/{id}` with every member: the group without `members`, and its members
    /// as the JSON text of that array ([`render::members_json`]), from one snapshot.
    pub async fn get_group_and_members_json(
        &self,
        id: &str,
        base: &str,
    ) -> Result<(Value, String), DirectoryError> {
        let (id, base) = (id.to_owned(), base.to_owned());
        self.store
            .read(move |conn| {
                let row = groups::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
                let doc = render::group(conn, &row, &base, false)?;
                let members = render::members_json(conn, &row, &base)?;
                Ok((doc, members))
            })
            .await
    }

    /// A group's members as the JSON text of its `members` array
    /// ([`render::members_json`]).
    pub async fn group_members_json(&self, id: &str, base: &str) -> Result<String, DirectoryError> {
        let (id, base) = (id.to_owned(), base.to_owned());
        self.store
            .read(move |conn| {
                let row = groups::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
                Ok(render::members_json(conn, &row, &base)?)
            })
            .await
    }

    /// `PUT /Groups/{id}`. A body without `members` leaves the membership as it is; an
    /// empty list clears it.
    pub async fn replace_group(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        pre: Precondition,
        base: &str,
        with_members: bool,
    ) -> Result<Value, DirectoryError> {
        let subject = Subject::group_id(id);
        let group = match keybridge_scim::resource::normalize_group(&body) {
            Ok(g) => g,
            Err(e) => return Err(self.reject(audit::GROUP_UPDATE, subject, actor, e).await),
        };
        let (base, id) = (base.to_owned(), id.to_owned());
        self.audited_write(audit::GROUP_UPDATE, subject, actor, move |conn, actor| {
            let row = groups::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
            check_precondition(&pre, row.version)?;
            let changes = match group.members {
                Some(ids) => vec![MemberChange::Replace(ids)],
                None => vec![],
            };
            change(conn, row, group.doc, changes, actor, &base, with_members)
        })
        .await
    }

    /// `PATCH /Groups/{id}`.
    pub async fn patch_group(
        &self,
        actor: &Actor,
        id: &str,
        ops: Vec<PatchOp>,
        pre: Precondition,
        base: &str,
        with_members: bool,
    ) -> Result<Value, DirectoryError> {
        let subject = Subject::group_id(id);
        let (base, id) = (base.to_owned(), id.to_owned());
        self.audited_write(audit::GROUP_UPDATE, subject, actor, move |conn, actor| {
            let row = groups::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
            check_precondition(&pre, row.version)?;
            let mut doc = row.doc.clone();
            let outcome = apply_patch(ResourceType::Group, &mut doc, &ops)?;
            change(
                conn,
                row,
                doc,
                outcome.member_changes,
                actor,
                &base,
                with_members,
            )
        })
        .await
    }

    /// `DELETE /Groups/{id}`. Built-in groups cannot be deleted.
    pub async fn delete_group(
        &self,
        actor: &Actor,
        id: &str,
        pre: Precondition,
    ) -> Result<(), DirectoryError> {
        let subject = Subject::group_id(id);
        let id = id.to_owned();
        self.audited_write(audit::GROUP_DELETE, subject, actor, move |conn, actor| {
            let row = groups::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
            check_precondition(&pre, row.version)?;
            if render::is_protected(row.kind) {
                return Err(ScimError::mutability(format!(
                    "'{}' is a built-in group and cannot be deleted",
                    row.display_name
                ))
                .into());
            }
            groups::delete(conn, row.seq)?;
            audit::success(
                conn,
                audit::GROUP_DELETE,
                Subject::group(&row.id, &row.display_name),
                vec![],
                actor,
            )?;
            Ok(())
        })
        .await
    }
}

pub(super) fn not_found(id: &str) -> DirectoryError {
    ScimError::not_found(format!("no group has the id '{id}'")).into()
}

fn ensure_unique_name(
    conn: &Connection,
    key: &str,
    name: &str,
    own_seq: Option<i64>,
) -> Result<(), DirectoryError> {
    if let Some(other) = groups::by_name_key(conn, key)? {
        if Some(other.seq) != own_seq {
            return Err(ScimError::uniqueness(format!(
                "a group named '{name}' already exists (id {}); look it up by displayName to take it over",
                other.id
            ))
            .into());
        }
    }
    Ok(())
}

fn create(
    conn: &Connection,
    group: NormalizedGroup,
    actor: &str,
    base: &str,
) -> Result<Value, DirectoryError> {
    let name = required_text(&group.doc, "displayName")?;
    let key = username_key(&name);
    ensure_unique_name(conn, &key, &name, None)?;
    let now = now_timestamp();
    let mut row = GroupRow {
        seq: 0,
        id: new_id(),
        display_name: name.clone(),
        display_name_key: key,
        external_id: group
            .doc
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_owned),
        kind: GroupKind::Custom,
        managed: true,
        doc: group.doc,
        version: 1,
        created: now.clone(),
        modified: now,
    };
    row.seq = groups::insert(conn, &row)?;
    let mut attributes = audit::attribute_names(&row.doc);
    if let Some(ids) = group.members {
        if !ids.is_empty() {
            attributes.push("members".into());
        }
        apply_member_changes(conn, row.seq, vec![MemberChange::Add(ids)])?;
    }
    audit::success(
        conn,
        audit::GROUP_CREATE,
        Subject::group(&row.id, &name),
        attributes,
        actor,
    )?;
    Ok(render::group(conn, &row, base, true)?)
}

fn change(
    conn: &Connection,
    mut row: GroupRow,
    doc: Value,
    member_changes: Vec<MemberChange>,
    actor: &str,
    base: &str,
    with_members: bool,
) -> Result<Value, DirectoryError> {
    let name = required_text(&doc, "displayName")?;
    if name != row.display_name {
        if render::is_protected(row.kind) {
            return Err(ScimError::mutability(format!(
                "'{}' is a built-in group and cannot be renamed",
                row.display_name
            ))
            .into());
        }
        let key = username_key(&name);
        ensure_unique_name(conn, &key, &name, Some(row.seq))?;
        row.display_name_key = key;
        row.display_name = name.clone();
    }
    let mut attributes = changed_attributes(&row.doc, &doc);
    if !member_changes.is_empty() {
        attributes.push("members".into());
    }
    apply_member_changes(conn, row.seq, member_changes)?;
    row.external_id = doc
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    row.doc = doc;
    // Writing to a group through SCIM takes it over: from now on the provider manages it.
    row.managed = true;
    row.version += 1;
    row.modified = now_timestamp();
    groups::update(conn, &row)?;
    audit::success(
        conn,
        audit::GROUP_UPDATE,
        Subject::group(&row.id, &name),
        attributes,
        actor,
    )?;
    Ok(render::group(conn, &row, base, with_members)?)
}

fn person_seq(conn: &Connection, id: &str) -> Result<i64, DirectoryError> {
    people::seq_of(conn, id)?.ok_or_else(|| {
        ScimError::invalid_value(format!("cannot add member '{id}': no person has that id")).into()
    })
}

/// Applies membership changes in request order, one row each.
fn apply_member_changes(
    conn: &Connection,
    group_seq: i64,
    changes: Vec<MemberChange>,
) -> Result<(), DirectoryError> {
    for change in changes {
        match change {
            MemberChange::Add(ids) => {
                for id in ids {
                    let seq = person_seq(conn, &id)?;
                    groups::add_member(conn, group_seq, seq)?;
                }
            }
            MemberChange::Remove(ids) => {
                for id in ids {
                    // Removing someone who is not a member (or no longer exists) is done.
                    if let Some(seq) = people::seq_of(conn, &id)? {
                        groups::remove_member(conn, group_seq, seq)?;
                    }
                }
            }
            MemberChange::RemoveAll => {
                groups::clear_members(conn, group_seq)?;
            }
            MemberChange::Replace(ids) => {
                let wanted = ids
                    .iter()
                    .map(|id| person_seq(conn, id))
                    .collect::<Result<std::collections::HashSet<_>, _>>()?;
                let current: std::collections::HashSet<i64> = groups::members(conn, group_seq)?
                    .into_iter()
                    .map(|(seq, _, _)| seq)
                    .collect();
                for seq in current.difference(&wanted) {
                    groups::remove_member(conn, group_seq, *seq)?;
                }
                for seq in wanted.difference(&current) {
                    groups::add_member(conn, group_seq, *seq)?;
                }
            }
            MemberChange::RemoveWhere(filter) => {
                for (seq, id, display) in groups::members(conn, group_seq)? {
                    if member_matches(&filter, &id, display.as_deref()) {
                        groups::remove_member(conn, group_seq, seq)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Evaluates a `members[…]` value filter on one member.
fn member_matches(filter: &Filter, id: &str, display: Option<&str>) -> bool {
    let doc = json!({"members": [{"value": id, "display": display, "type": "User"}]});
    let whole = Filter::ValuePath {
        attr: AttrPath {
            urn: Some(CORE_GROUP.into()),
            attr: "members".into(),
            sub_attr: None,
        },
        filter: Box::new(filter.clone()),
    };
    whole.matches(ResourceType::Group, &doc)
}
