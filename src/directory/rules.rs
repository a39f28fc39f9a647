//! The account's rules for what a person's record holds when the identity provider leaves
//! something out, and how `active` moves a person through the lifecycle.

use serde_json::{json, Value};

use crate::store::people::PersonState;

/// "given family" from the name parts, or None when both are empty.
pub fn given_family(doc: &Value) -> Option<String> {
    let part = |k: &str| {
        doc.get("name")
            .and_then(|n| n.get(k))
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
    };
    let joined = [part("givenName"), part("familyName")]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// The person's email: the primary one, else the first, else a userName that looks like one.
pub fn primary_email(doc: &Value) -> Option<String> {
    let emails = doc.get("emails").and_then(Value::as_array);
    let value = |e: &Value| e.get("value").and_then(Value::as_str).map(str::to_owned);
    if let Some(list) = emails {
        if let Some(p) = list
            .iter()
            .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
            .and_then(value)
        {
            return Some(p);
        }
        if let Some(first) = list.iter().find_map(value) {
            return Some(first);
        }
    }
    doc.get("userName")
        .and_then(Value::as_str)
        .filter(|u| u.contains('@'))
        .map(str::to_owned)
}

/// `john.doe@example.com` → `john.doe`.
pub fn email_local_part(email: &str) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then(|| local.to_owned())
}

/// How a record is being written, which decides what counts as "left out".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// POST or PUT: the body is the whole record; whatever it lacks was left out.
    Whole,
    /// PATCH: the record is the previous one changed by operations; an attribute the
    /// operations removed was removed on purpose and stays removed.
    Patch,
}

/// Fills what the request left out: `displayName` and `name.formatted` are "given family",
/// `externalId` the email's local part (always so under the 1Password profile).
///
/// On a PATCH, a value that was derived before (it equals what the previous record
/// derived) and that the operations did not change is derived again, so that a changed
/// given name also changes the display name.
pub fn apply_defaults(
    doc: &mut Value,
    previous: Option<&Value>,
    write: Write,
    onepassword_compat: bool,
) {
    let derived = given_family(doc);
    let previous = if write == Write::Patch {
        previous
    } else {
        None
    };
    let prev_derived = previous.and_then(given_family);
    // Whether to (re)derive an attribute whose current and previous values are given.
    let derive = |current: Option<&str>, prev: Option<&str>| -> bool {
        match (current, prev, prev_derived.as_deref()) {
            (None, None, _) => true,
            // Removed by this PATCH: respect that.
            (None, Some(_), _) => false,
            // Unchanged by this PATCH and equal to the previous derivation: follow the name.
            (Some(c), Some(p), Some(d)) => c == p && p == d,
            _ => false,
        }
    };
    let prev_display = previous
        .and_then(|p| p.get("displayName"))
        .and_then(Value::as_str);
    let display = doc.get("displayName").and_then(Value::as_str);
    if derive(display, prev_display) {
        if let (Some(d), Some(obj)) = (derived.clone(), doc.as_object_mut()) {
            obj.insert("displayName".into(), json!(d));
        }
    }
    let prev_formatted = previous
        .and_then(|p| p.pointer("/name/formatted"))
        .and_then(Value::as_str);
    let formatted = doc.pointer("/name/formatted").and_then(Value::as_str);
    if derive(formatted, prev_formatted) {
        if let Some(d) = derived {
            if let Some(name) = doc.get_mut("name").and_then(Value::as_object_mut) {
                name.insert("formatted".into(), json!(d));
            }
        }
    }
    let has_external = doc
        .get("externalId")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if onepassword_compat || (!has_external && write == Write::Whole) {
        if let Some(local) = primary_email(doc).as_deref().and_then(email_local_part) {
            if let Some(obj) = doc.as_object_mut() {
                obj.insert("externalId".into(), json!(local));
            }
        }
    }
}

/// What a change of `active` does to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Nothing changes state.
    Stay(PersonState),
    /// Deprovisioning someone who never joined removes them from the account (their
    /// invitation is void); the provisioning record stays readable until deleted.
    Remove,
    /// Deprovisioning someone who joined suspends them.
    Suspend,
    /// Reactivation: back to Active if they had joined, else back to Invited.
    Reactivate(PersonState),
}

/// The lifecycle step for `active` going from `was` to `now`. `None` for `now` means the
/// request did not say (a PUT without `active` must not suspend anyone).
pub fn transition(state: PersonState, joined: bool, now: Option<bool>) -> Transition {
    match (state, now) {
        (PersonState::Invited, Some(false)) => Transition::Remove,
        (PersonState::Active, Some(false)) => Transition::Suspend,
        (PersonState::Suspended | PersonState::Removed, Some(true)) => {
            Transition::Reactivate(if joined {
                PersonState::Active
            } else {
                PersonState::Invited
            })
        }
        (s, _) => Transition::Stay(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_and_formatted_are_given_family_when_left_out() {
        let mut doc = json!({"userName": "ada@example.io", "name": {"givenName": "Ada", "familyName": "Lovelace"}});
        apply_defaults(&mut doc, None, Write::Whole, false);
        assert_eq!(doc["displayName"], "Ada Lovelace");
        assert_eq!(doc["name"]["formatted"], "Ada Lovelace");
    }

    #[test]
    fn a_display_name_the_request_sent_is_kept() {
        let mut doc = json!({"userName": "a", "displayName": "The Countess", "name": {"givenName": "Ada", "familyName": "Lovelace"}});
        apply_defaults(&mut doc, None, Write::Whole, false);
        assert_eq!(doc["displayName"], "The Countess");
    }

    #[test]
    fn a_derived_display_name_follows_a_changed_given_name() {
        let mut before =
            json!({"userName": "a", "name": {"givenName": "Ada", "familyName": "Lovelace"}});
        apply_defaults(&mut before, None, Write::Whole, false);
        let mut after = before.clone();
        after["name"]["givenName"] = json!("Augusta");
        apply_defaults(&mut after, Some(&before), Write::Patch, false);
        assert_eq!(after["displayName"], "Augusta Lovelace");
        assert_eq!(after["name"]["formatted"], "Augusta Lovelace");
    }

    #[test]
    fn external_id_is_the_email_local_part_when_left_out() {
        let mut doc = json!({"userName": "john.doe@example.com"});
        apply_defaults(&mut doc, None, Write::Whole, false);
        assert_eq!(doc["externalId"], "john.doe");
        let mut sent = json!({"userName": "john.doe@example.com", "externalId": "5f1b"});
        apply_defaults(&mut sent, None, Write::Whole, false);
        assert_eq!(sent["externalId"], "5f1b");
    }

    #[test]
    fn the_onepassword_profile_overrides_the_sent_external_id() {
        let mut doc = json!({"userName": "x", "externalId": "5f1b",
                             "emails": [{"value": "other@example.com"}, {"value": "john.doe@example.com", "primary": true}]});
        apply_defaults(&mut doc, None, Write::Whole, true);
        assert_eq!(doc["externalId"], "john.doe");
    }

    #[test]
    fn a_patch_that_removes_a_derived_attribute_is_respected() {
        let mut before =
            json!({"userName": "a@example.com", "name": {"givenName": "Ada", "familyName": "L"}});
        apply_defaults(&mut before, None, Write::Whole, false);
        let mut after = before.clone();
        if let Some(o) = after.as_object_mut() {
            o.remove("displayName");
            o.remove("externalId");
        }
        apply_defaults(&mut after, Some(&before), Write::Patch, false);
        assert!(
            after.get("displayName").is_none() && after.get("externalId").is_none(),
            "{after}"
        );
    }

    #[test]
    fn deprovisioning_an_invited_person_removes_them() {
        assert_eq!(
            transition(PersonState::Invited, false, Some(false)),
            Transition::Remove
        );
    }

    #[test]
    fn deprovisioning_an_active_person_suspends_them() {
        assert_eq!(
            transition(PersonState::Active, true, Some(false)),
            Transition::Suspend
        );
    }

    #[test]
    fn reactivating_returns_a_person_to_where_they_were() {
        assert_eq!(
            transition(PersonState::Suspended, true, Some(true)),
            Transition::Reactivate(PersonState::Active)
        );
        assert_eq!(
            transition(PersonState::Suspended, false, Some(true)),
            Transition::Reactivate(PersonState::Invited)
        );
        assert_eq!(
            transition(PersonState::Removed, false, Some(true)),
            Transition::Reactivate(PersonState::Invited)
        );
    }

    #[test]
    fn leaving_active_out_changes_nothing() {
        assert_eq!(
            transition(PersonState::Active, true, None),
            Transition::Stay(PersonState::Active)
        );
        assert_eq!(
            transition(PersonState::Suspended, true, None),
            Transition::Stay(PersonState::Suspended)
        );
    }
}
