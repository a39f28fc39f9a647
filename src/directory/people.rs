//! People: create, read, replace, patch, delete, and confirm (join), with the lifecycle
//! rules of the account.

use keybridge_scim::patch::{apply_patch, PatchOp};
use keybridge_scim::schema::ResourceType;
use keybridge_scim::{username_key, ScimError};
use rusqlite::Connection;
use serde_json::{json, Value};

use super::audit::{self, Subject};
use super::rules::{self, Transition, Write};
use super::{
    check_precondition, new_id, render, required_text, Actor, Directory, DirectoryError,
    Precondition,
};
use crate::store::people::{self, PersonRow, PersonState};
use crate::store::{abandon_transaction, in_savepoint, now_timestamp, StoreError};

impl Directory {
    /// `POST /Users`: a new person, Invited (or Suspended if sent with `active: false`).
    pub async fn create_user(
        &self,
        actor: &Actor,
        body: Value,
        base: &str,
    ) -> Result<Value, DirectoryError> {
        let answer = self.create_user_answer(actor, body, base).await?;
        serde_json::from_str(&answer.text)
            .map_err(|e| DirectoryError::Store(StoreError::Internal(format!("a new user: {e}"))))
    }

    /// [`Directory::create_user`], answered as text (what the bridge sends back).
    pub async fn create_user_answer(
        &self,
        actor: &Actor,
        body: Value,
        base: &str,
    ) -> Result<render::Answer, DirectoryError> {
        let compat = self.settings().onepassword_compat;
        let new = match keybridge_scim::resource::normalize_user(&body)
            .and_then(|doc| new_person(doc, compat))
        {
            Ok(new) => new,
            Err(e) => {
                return Err(self
                    .reject(audit::USER_CREATE, Subject::users(), actor, e)
                    .await)
            }
        };
        let (row, doc_text) = self
            .audited_write_with(
                Undo::NothingWritten,
                audit::USER_CREATE,
                Subject::users(),
                actor,
                move |conn, actor| create(conn, new, actor),
            )
            .await?;
        // Rendered after the commit, off the writer thread: a person created a moment ago
        // is in no group, so the answer needs nothing more from the store, and the single
        // writer is what bounds how fast people can be created.
        Ok(render::new_user(&row, &doc_text, base))
    }

    /// `GET /Users/{id}`.
    pub async fn get_user(&self, id: &str, base: &str) -> Result<Value, DirectoryError> {
        let (id, base) = (id.to_owned(), base.to_owned());
        self.store
            .read(move |conn| {
                let row = people::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
                Ok(render::user(conn, row, &base)?)
            })
            .await
    }

    /// `PUT /Users/{id}`: replaces the record; leaving `active` out keeps it as it was.
    pub async fn replace_user(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        pre: Precondition,
        base: &str,
    ) -> Result<Value, DirectoryError> {
        let subject = Subject::user_id(id);
        let doc = match keybridge_scim::resource::normalize_user(&body) {
            Ok(doc) => doc,
            Err(e) => return Err(self.reject(audit::USER_UPDATE, subject, actor, e).await),
        };
        let compat = self.settings().onepassword_compat;
        let (base, id) = (base.to_owned(), id.to_owned());
        self.audited_write(audit::USER_UPDATE, subject, actor, move |conn, actor| {
            let row = people::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
            check_precondition(&pre, row.version)?;
            let explicit_active = doc.get("active").and_then(Value::as_bool);
            change(
                conn,
                row,
                doc,
                explicit_active,
                Write::Whole,
                compat,
                actor,
                &base,
            )
        })
        .await
    }

    /// `PATCH /Users/{id}`.
    pub async fn patch_user(
        &self,
        actor: &Actor,
        id: &str,
        ops: Vec<PatchOp>,
        pre: Precondition,
        base: &str,
    ) -> Result<Value, DirectoryError> {
        let subject = Subject::user_id(id);
        let compat = self.settings().onepassword_compat;
        let (base, id) = (base.to_owned(), id.to_owned());
        self.audited_write(audit::USER_UPDATE, subject, actor, move |conn, actor| {
            let row = people::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
            check_precondition(&pre, row.version)?;
            let mut doc = row.doc.clone();
            let outcome = apply_patch(ResourceType::User, &mut doc, &ops)?;
            let explicit_active = outcome
                .changed
                .iter()
                .any(|a| a == "active")
                .then(|| doc.get("active").and_then(Value::as_bool))
                .flatten();
            change(
                conn,
                row,
                doc,
                explicit_active,
                Write::Patch,
                compat,
                actor,
                &base,
            )
        })
        .await
    }

    /// `DELETE /Users/{id}`.
    pub async fn delete_user(
        &self,
        actor: &Actor,
        id: &str,
        pre: Precondition,
    ) -> Result<(), DirectoryError> {
        let subject = Subject::user_id(id);
        let id = id.to_owned();
        self.audited_write(audit::USER_DELETE, subject, actor, move |conn, actor| {
            let row = people::by_id(conn, &id)?.ok_or_else(|| not_found(&id))?;
            check_precondition(&pre, row.version)?;
            people::delete(conn, row.seq)?;
            audit::success(
                conn,
                audit::USER_DELETE,
                Subject::user(&row.id, &row.user_name),
                vec![],
                actor,
            )?;
            Ok(())
        })
        .await
    }

    /// Marks an Invited person Active, as joining by invitation will. `who` is an email
    /// address or a userName.
    pub async fn confirm_person(
        &self,
        actor: &Actor,
        who: &str,
        base: &str,
    ) -> Result<Value, DirectoryError> {
        let (who, base) = (who.trim().to_owned(), base.to_owned());
        self.audited_write(
            audit::USER_JOIN,
            Subject::users(),
            actor,
            move |conn, actor| {
                let mut row = find_person(conn, &who)?;
                match row.state {
                    PersonState::Invited => {}
                    PersonState::Active => {
                        return Err(
                            ScimError::invalid_value(format!("{who} has already joined")).into(),
                        )
                    }
                    PersonState::Suspended | PersonState::Removed => {
                        return Err(ScimError::invalid_value(format!(
                            "{who} is {}; reactivate them in the identity provider first",
                            row.state.as_str()
                        ))
                        .into())
                    }
                }
                let now = now_timestamp();
                row.state = PersonState::Active;
                row.joined_at = Some(now.clone());
                row.version += 1;
                row.modified = now;
                people::update(conn, &row)?;
                audit::success(
                    conn,
                    audit::USER_JOIN,
                    Subject::user(&row.id, &row.user_name),
                    vec![],
                    actor,
                )?;
                Ok(render::user(conn, row, &base)?)
            },
        )
        .await
    }

    /// Writes a failure event for a request rejected before it reached the store.
    pub(super) async fn reject(
        &self,
        event: &'static str,
        subject: Subject,
        actor: &Actor,
        e: ScimError,
    ) -> DirectoryError {
        let actor = actor.0.clone();
        let (status, detail) = (e.status, e.detail.clone());
        let written = self
            .store
            .write(move |conn| -> Result<(), DirectoryError> {
                audit::failure(conn, event, subject, &actor, status, &detail)?;
                Ok(())
            })
            .await;
        if let Err(w) = written {
            tracing::warn!(error = %w, "could not record a failed request in the audit log");
        }
        DirectoryError::Rejected(e)
    }

    /// Records a failed read (a bad filter, an unknown id) in the audit log.
    pub async fn record_failure(&self, event: &'static str, actor: &Actor, e: &ScimError) {
        let subject = if event.starts_with("group") {
            Subject::groups()
        } else {
            Subject::users()
        };
        let _ = self.reject(event, subject, actor, e.clone()).await;
    }
}

/// How an audited write undoes its changes when a rule rejects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Undo {
    /// Rolls back to a savepoint around the write: a rejection may come after it changed
    /// something.
    Savepoint,
    /// Nothing to undo: every rejection comes before the write's first change, so no
    /// savepoint is opened (each one makes SQLite copy the pages it touches that the
    /// batch already changed: on the single writer thread, a tenth of a new person's
    /// cost). A store failure part-way cannot be undone for this write alone, so it rolls
    /// back the whole transaction; the writer answers its jobs "not carried out".
    NothingWritten,
}

impl Directory {
    /// Runs `op` as one audited write job (see [`audited`]); `op` gets the actor's name.
    pub(super) async fn audited_write<T: Send + 'static>(
        &self,
        event: &'static str,
        subject: Subject,
        actor: &Actor,
        op: impl FnOnce(&Connection, &str) -> Result<T, DirectoryError> + Send + 'static,
    ) -> Result<T, DirectoryError> {
        self.audited_write_with(Undo::Savepoint, event, subject, actor, op)
            .await
    }

    /// [`Self::audited_write`] with the way a rejection is undone chosen by the caller.
    pub(super) async fn audited_write_with<T: Send + 'static>(
        &self,
        undo: Undo,
        event: &'static str,
        subject: Subject,
        actor: &Actor,
        op: impl FnOnce(&Connection, &str) -> Result<T, DirectoryError> + Send + 'static,
    ) -> Result<T, DirectoryError> {
        let actor = actor.0.clone();
        self.store
            .write(move |conn| audited(conn, undo, event, subject, &actor, |c| op(c, &actor)))
            .await
    }
}

/// Runs `op`; if the account or protocol rules reject it, its changes are undone (see
/// [`Undo`]) and a failure event is written in their place.
fn audited<T>(
    conn: &Connection,
    undo: Undo,
    event: &str,
    subject: Subject,
    actor: &str,
    op: impl FnOnce(&Connection) -> Result<T, DirectoryError>,
) -> Result<T, DirectoryError> {
    let result = match undo {
        Undo::Savepoint => in_savepoint(conn, op),
        Undo::NothingWritten => op(conn).inspect_err(|e| {
            if matches!(e, DirectoryError::Store(_)) {
                abandon_transaction(conn);
            }
        }),
    };
    if let Err(DirectoryError::Rejected(e)) = &result {
        audit::failure(conn, event, subject, actor, e.status, &e.detail)?;
    }
    result
}

pub(super) fn not_found(id: &str) -> DirectoryError {
    ScimError::not_found(format!("no person has the id '{id}'")).into()
}

fn find_person(conn: &Connection, who: &str) -> Result<PersonRow, DirectoryError> {
    if let Some(row) = people::by_user_name_key(conn, &username_key(who))? {
        return Ok(row);
    }
    let mut found = people::by_email(conn, who)?;
    match found.len() {
        0 => Err(ScimError::not_found(format!(
            "no person has the email address or userName '{who}'"
        ))
        .into()),
        1 => Ok(found.remove(0)),
        n => Err(ScimError::invalid_value(format!(
            "{n} people share the email address '{who}'; use their userName"
        ))
        .into()),
    }
}

fn ensure_unique_user_name(
    conn: &Connection,
    key: &str,
    user_name: &str,
    own_seq: Option<i64>,
) -> Result<(), DirectoryError> {
    if let Some(other) = people::by_user_name_key(conn, key)? {
        if Some(other.seq) != own_seq {
            return Err(ScimError::uniqueness(format!(
                "a person with the userName '{user_name}' already exists (id {})",
                other.id
            ))
            .into());
        }
    }
    Ok(())
}

/// A person ready to be inserted. Everything that needs no other row (defaults, the
/// userName key, the stored text) is worked out before the write is queued, so that the
/// single writer thread, which bounds how fast people can be created, only checks
/// uniqueness and writes.
struct NewPerson {
    row: PersonRow,
    doc_text: String,
    attributes: Vec<String>,
}

fn new_person(mut doc: Value, compat: bool) -> Result<NewPerson, ScimError> {
    let user_name = required_text(&doc, "userName")?;
    let key = username_key(&user_name);
    rules::apply_defaults(&mut doc, None, Write::Whole, compat);
    let active = doc.get("active").and_then(Value::as_bool).unwrap_or(true);
    set_key(&mut doc, "active", json!(active));
    let now = now_timestamp();
    let row = PersonRow {
        seq: 0,
        id: new_id(),
        user_name,
        user_name_key: key,
        external_id: doc
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_owned),
        display_name: doc
            .get("displayName")
            .and_then(Value::as_str)
            .map(str::to_owned),
        email: rules::primary_email(&doc),
        active,
        state: if active {
            PersonState::Invited
        } else {
            PersonState::Suspended
        },
        role: "member".into(),
        joined_at: None,
        doc,
        version: 1,
        created: now.clone(),
        modified: now,
    };
    Ok(NewPerson {
        doc_text: crate::store::json_text(&row.doc),
        attributes: audit::attribute_names(&row.doc),
        row,
    })
}

/// Stores a new person; gives back the row and its document's text (for the answer).
/// Runs as [`Undo::NothingWritten`]: its one rejection, a taken userName, comes before
/// anything is written.
fn create(
    conn: &Connection,
    new: NewPerson,
    actor: &str,
) -> Result<(PersonRow, String), DirectoryError> {
    let NewPerson {
        mut row,
        doc_text,
        attributes,
    } = new;
    ensure_unique_user_name(conn, &row.user_name_key, &row.user_name, None)?;
    row.seq = people::insert(conn, &row, &doc_text)?;
    audit::success(
        conn,
        audit::USER_CREATE,
        Subject::user(&row.id, &row.user_name),
        attributes,
        actor,
    )?;
    Ok((row, doc_text))
}

/// Applies a new document to a person (PUT or PATCH), with the lifecycle step `active`
/// asks for.
#[allow(clippy::too_many_arguments)]
fn change(
    conn: &Connection,
    mut row: PersonRow,
    mut doc: Value,
    explicit_active: Option<bool>,
    write: Write,
    compat: bool,
    actor: &str,
    base: &str,
) -> Result<Value, DirectoryError> {
    let user_name = required_text(&doc, "userName")?;
    let key = username_key(&user_name);
    ensure_unique_user_name(conn, &key, &user_name, Some(row.seq))?;
    rules::apply_defaults(&mut doc, Some(&row.doc), write, compat);
    let step = rules::transition(row.state, row.joined_at.is_some(), explicit_active);
    let active = match step {
        Transition::Remove | Transition::Suspend => false,
        Transition::Reactivate(_) => true,
        Transition::Stay(_) => row.active,
    };
    // A whole-record write that leaves `active` out keeps it (Okta PUTs without it); a
    // PATCH that removes it leaves the attribute unset without changing the state.
    if write == Write::Whole || explicit_active.is_some() {
        set_key(&mut doc, "active", json!(active));
    }
    let changed = changed_attributes(&row.doc, &doc);
    let subject = Subject::user(&row.id, &user_name);
    row.user_name = user_name;
    row.user_name_key = key;
    row.external_id = doc
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    row.display_name = doc
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    row.email = rules::primary_email(&doc);
    row.active = active;
    row.doc = doc;
    row.version += 1;
    row.modified = now_timestamp();
    let (state, deprovision) = match step {
        Transition::Remove => (PersonState::Removed, true),
        Transition::Suspend => (PersonState::Suspended, true),
        Transition::Reactivate(state) | Transition::Stay(state) => (state, false),
    };
    row.state = state;
    people::update(conn, &row)?;
    if deprovision {
        audit::success(
            conn,
            audit::USER_DEPROVISION,
            subject.clone(),
            vec!["active".into()],
            actor,
        )?;
        let rest: Vec<String> = changed.into_iter().filter(|a| a != "active").collect();
        if !rest.is_empty() {
            audit::success(conn, audit::USER_UPDATE, subject, rest, actor)?;
        }
    } else {
        audit::success(conn, audit::USER_UPDATE, subject, changed, actor)?;
    }
    Ok(render::user(conn, row, base)?)
}

fn set_key(doc: &mut Value, key: &str, value: Value) {
    if let Some(obj) = doc.as_object_mut() {
        obj.insert(key.to_owned(), value);
    }
}

/// Names of top-level attributes whose values differ.
pub(super) fn changed_attributes(before: &Value, after: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut names: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    names.extend(b.keys().filter(|k| !a.contains_key(*k)).cloned());
    names
}
