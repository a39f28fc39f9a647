//! Versioned schema migrations, embedded in the binary and applied in order at open.
//! `PRAGMA user_version` records how far a database has come.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

/// One step of the schema: SQL, or code for what SQL alone cannot say.
enum Migration {
    Sql(&'static str),
    Code(fn(&Connection) -> Result<(), StoreError>),
}
use Migration::{Code, Sql};

/// Each entry moves the schema one version up. Never edit a released entry: add one.
const MIGRATIONS: &[Migration] = &[
    // 1: the directory, tokens, settings and the audit log.
    Sql(r#"
    CREATE TABLE people (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT NOT NULL UNIQUE,
        user_name     TEXT NOT NULL,
        user_name_key TEXT NOT NULL UNIQUE,
        external_id   TEXT,
        display_name  TEXT,
        email         TEXT,
        active        INTEGER NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('invited', 'active', 'suspended', 'removed')),
        role          TEXT NOT NULL DEFAULT 'member',
        joined_at     TEXT,
        doc           TEXT NOT NULL,
        version       INTEGER NOT NULL,
        created       TEXT NOT NULL,
        modified      TEXT NOT NULL
    );
    CREATE INDEX people_external_id ON people(external_id);
    CREATE INDEX people_email ON people(email COLLATE NOCASE);

    CREATE TABLE groups (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT NOT NULL UNIQUE,
        display_name     TEXT NOT NULL,
        display_name_key TEXT NOT NULL UNIQUE,
        external_id      TEXT,
        kind             TEXT NOT NULL CHECK (kind IN ('owners', 'administrators', 'custom')),
        managed          INTEGER NOT NULL,
        doc              TEXT NOT NULL,
        version          INTEGER NOT NULL,
        created          TEXT NOT NULL,
        modified         TEXT NOT NULL
    );
    CREATE INDEX groups_external_id ON groups(external_id);

    CREATE TABLE memberships (
        group_seq  INTEGER NOT NULL REFERENCES groups(seq) ON DELETE CASCADE,
        person_seq INTEGER NOT NULL REFERENCES people(seq) ON DELETE CASCADE,
        PRIMARY KEY (group_seq, person_seq)
    ) WITHOUT ROWID;
    CREATE INDEX memberships_person ON memberships(person_seq, group_seq);

    CREATE TABLE tokens (
        name      TEXT PRIMARY KEY,
        digest    BLOB NOT NULL UNIQUE,
        created   TEXT NOT NULL,
        last_used TEXT
    );

    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE TABLE events (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        time          TEXT NOT NULL,
        name          TEXT NOT NULL,
        outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
        resource_type TEXT,
        resource_id   TEXT,
        resource_name TEXT,
        attributes    TEXT NOT NULL DEFAULT '[]',
        actor         TEXT,
        status        INTEGER,
        detail        TEXT
    );
    CREATE INDEX events_time ON events(time);
    CREATE INDEX events_resource ON events(resource_id);
    "#),
    // 2: the team's attribute-mapping table, one row per saved version (auditable).
    Sql(r#"
    CREATE TABLE mapping_tables (
        version  INTEGER PRIMARY KEY AUTOINCREMENT,
        body     TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        actor    TEXT NOT NULL,
        note     TEXT
    );
    "#),
    // 3: a narrow index in insertion order, so that paging through everyone (an import)
    // skips index entries instead of whole rows.
    Sql(r#"
    CREATE INDEX people_by_seq ON people(seq);
    "#),
    // 4: token rotation. During a changeover a token has a previous digest that stays
    // valid until it is retired or `previous_expires` passes.
    Sql(r#"
    ALTER TABLE tokens ADD COLUMN previous_digest BLOB;
    ALTER TABLE tokens ADD COLUMN previous_expires TEXT;
    ALTER TABLE tokens ADD COLUMN rotated TEXT;
    CREATE UNIQUE INDEX tokens_previous_digest ON tokens(previous_digest);
    "#),
    // 5: single sign-on and joining. Invitations are created and voided by triggers, so
    // that every path that provisions or deprovisions a person (POST, PUT, PATCH, Bulk)
    // does it in the same transaction without knowing about invitations; membership
    // times are kept only for groups the unlock policy selects.
    Sql(r#"
    CREATE TABLE invitations (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        person_seq INTEGER NOT NULL REFERENCES people(seq) ON DELETE CASCADE,
        purpose    TEXT NOT NULL CHECK (purpose IN ('join', 'switch')),
        digest     BLOB UNIQUE,
        created    TEXT NOT NULL,
        minted     TEXT,
        expires    TEXT,
        delivered  TEXT,
        attempts   INTEGER NOT NULL DEFAULT 0,
        next_try   TEXT,
        used       TEXT,
        revoked    TEXT
    );
    CREATE INDEX invitations_person ON invitations(person_seq);
    CREATE INDEX invitations_undelivered ON invitations(delivered) WHERE delivered IS NULL;

    CREATE TRIGGER invitations_on_provision AFTER INSERT ON people
    WHEN NEW.state = 'invited'
    BEGIN
        INSERT INTO invitations (person_seq, purpose, created)
        VALUES (NEW.seq, 'join', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
    END;

    CREATE TRIGGER invitations_on_reinvite AFTER UPDATE OF state ON people
    WHEN NEW.state = 'invited' AND OLD.state <> 'invited'
    BEGIN
        INSERT INTO invitations (person_seq, purpose, created)
        VALUES (NEW.seq, 'join', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
    END;

    CREATE TRIGGER invitations_on_leave AFTER UPDATE OF state ON people
    WHEN NEW.state <> OLD.state AND NEW.state IN ('suspended', 'removed')
    BEGIN
        UPDATE invitations SET revoked = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE person_seq = NEW.seq AND used IS NULL AND revoked IS NULL;
    END;

    INSERT INTO invitations (person_seq, purpose, created)
    SELECT seq, 'join', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM people WHERE state = 'invited';

    CREATE TABLE sso_groups (
        ord           INTEGER PRIMARY KEY AUTOINCREMENT,
        group_seq     INTEGER NOT NULL UNIQUE REFERENCES groups(seq) ON DELETE CASCADE,
        configured_at TEXT NOT NULL,
        grace_days    INTEGER NOT NULL CHECK (grace_days BETWEEN 1 AND 30)
    );

    CREATE TABLE sso_membership_times (
        group_seq  INTEGER NOT NULL,
        person_seq INTEGER NOT NULL,
        added_at   TEXT NOT NULL,
        PRIMARY KEY (group_seq, person_seq),
        FOREIGN KEY (group_seq, person_seq) REFERENCES memberships(group_seq, person_seq) ON DELETE CASCADE
    ) WITHOUT ROWID;

    CREATE TRIGGER sso_membership_added AFTER INSERT ON memberships
    WHEN EXISTS (SELECT 1 FROM sso_groups WHERE group_seq = NEW.group_seq)
    BEGIN
        INSERT OR REPLACE INTO sso_membership_times (group_seq, person_seq, added_at)
        VALUES (NEW.group_seq, NEW.person_seq, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
    END;

    CREATE TABLE sso_people (
        person_seq    INTEGER PRIMARY KEY REFERENCES people(seq) ON DELETE CASCADE,
        switched_at   TEXT,
        recovered_at  TEXT,
        signed_out_at TEXT
    );
    "#),
    // 6: a new person's join invitation is inserted by `people::insert` itself. A
    // statement that fires a trigger runs with a statement journal, and inside the
    // writer's batch that meant copying every page the insert touched which an earlier
    // job had already changed: about a seventh of the instructions of a POST /Users.
    // The triggers on a change of state stay (those updates are rare).
    Sql(r#"
    DROP TRIGGER invitations_on_provision;
    "#),
    // 7: no IN list in a CHECK constraint; see `check_constraints_without_in_lists`.
    Code(check_constraints_without_in_lists),
];

/// The CHECK constraints that listed a column's allowed values with IN, and the same
/// test written as ORs of equalities.
const IN_LIST_CHECKS: [(&str, &str, &str); 2] = [
    (
        "people",
        "state IN ('invited', 'active', 'suspended', 'removed')",
        "state = 'invited' OR state = 'active' OR state = 'suspended' OR state = 'removed'",
    ),
    (
        "groups",
        "kind IN ('owners', 'administrators', 'custom')",
        "kind = 'owners' OR kind = 'administrators' OR kind = 'custom'",
    ),
];

/// Migration 7. SQLite evaluates `x IN (a, b, c)` with more than two constant values by
/// building a temporary index of the values, and in a CHECK constraint it builds it
/// anew on every insert and every update of the row: a temporary B-tree, its first
/// page zeroed, four inserts. That was about 3% of the instructions of a POST /Users.
/// The same test as ORs of equalities is plain comparisons.
///
/// The change is made the way SQLite documents for changing a constraint without
/// rebuilding the table (lang_altertable.html, "otheralter"): the table's SQL text is
/// edited in sqlite_schema with writable_schema on and the schema version bumped, in
/// this migration's transaction. Nothing stored changes, and every row satisfies the new
/// text because it satisfies the old. A rebuild would have had to turn foreign keys off
/// around the transaction, since dropping `people` would cascade to the memberships.
fn check_constraints_without_in_lists(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "schema_version", |r| r.get(0))?;
    conn.pragma_update(None, "writable_schema", true)?;
    for (table, from, to) in IN_LIST_CHECKS {
        let changed = conn.execute(
            "UPDATE sqlite_schema SET sql = replace(sql, ?2, ?3)
             WHERE type = 'table' AND name = ?1 AND instr(sql, ?2) > 0",
            [table, from, to],
        )?;
        if changed != 1 {
            return Err(StoreError::Internal(format!(
                "migration 7: the table {table} does not have the constraint {from}"
            )));
        }
    }
    conn.pragma_update(None, "schema_version", version + 1)?;
    // RESET, not OFF: the new version makes other connections read the schema again,
    // but this one (which goes on to be the writer) only does so when told.
    conn.execute_batch("PRAGMA writable_schema = RESET")?;
    Ok(())
}

/// The schema version this binary writes: a database above it is from a newer Keybridge.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database up to the newest schema, one transaction per step.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let known = latest_version();
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > known {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: current,
            known,
        });
    }
    apply(conn, current, known)
}

/// Applies migrations `from + 1 ..= to`.
fn apply(conn: &mut Connection, from: i64, to: i64) -> Result<(), StoreError> {
    let steps = MIGRATIONS.iter().enumerate().take(to as usize);
    for (index, step) in steps.skip(from as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        match step {
            Sql(sql) => tx.execute_batch(sql)?,
            Code(run) => run(&tx)?,
        }
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new, empty database file (kept while the directory is).
    fn empty_database() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).expect("open");
        (dir, path, conn)
    }

    #[test]
    fn migrating_twice_is_a_no_op_and_records_the_version() {
        let (_dir, path, mut conn) = empty_database();
        migrate(&mut conn, &path).expect("first");
        migrate(&mut conn, &path).expect("second");
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(v, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_new_person_gets_exactly_one_join_invitation_without_the_insert_trigger() {
        use super::super::people::{self, PersonRow, PersonState};
        let (_dir, path, mut conn) = empty_database();
        migrate(&mut conn, &path).expect("migrate");
        let triggers: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'invitations_on_provision'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(triggers, 0, "migration 6 drops the insert trigger");
        let invited =
            people::insert(&conn, &PersonRow::example("a", PersonState::Invited), "{}").expect("a");
        let suspended = people::insert(
            &conn,
            &PersonRow::example("b", PersonState::Suspended),
            "{}",
        )
        .expect("b");
        let count = |seq: i64| -> i64 {
            conn.query_row(
                "SELECT count(*) FROM invitations WHERE person_seq = ?1 AND purpose = 'join'",
                [seq],
                |r| r.get(0),
            )
            .expect("count")
        };
        assert_eq!(count(invited), 1);
        assert_eq!(count(suspended), 0);
        let created: String = conn
            .query_row(
                "SELECT created FROM invitations WHERE person_seq = ?1",
                [invited],
                |r| r.get(0),
            )
            .expect("created");
        assert_eq!(created, "2026-11-29T17:00:00.000Z", "invited when created");
        // The triggers on a change of state are still there: invited again, one more.
        conn.execute(
            "UPDATE people SET state = 'invited' WHERE seq = ?1",
            [suspended],
        )
        .expect("reinvite");
        assert_eq!(count(suspended), 1);
    }

    /// The opcodes SQLite runs for `sql`.
    fn opcodes(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).expect("explain");
        let rows = stmt
            .query_map([rusqlite::types::Null], |r| r.get::<_, String>(1))
            .expect("rows");
        rows.map(|r| r.expect("opcode")).collect()
    }

    #[test]
    fn check_constraints_test_the_same_values_without_a_temporary_index() {
        use super::super::people::{self, PersonRow, PersonState};
        let (_dir, path, mut conn) = empty_database();
        // A database from before migration 7, with a person and a group in it.
        apply(&mut conn, 0, 6).expect("up to 6");
        let kept = people::insert(
            &conn,
            &PersonRow::example("kept", PersonState::Invited),
            "{}",
        )
        .expect("kept");
        conn.execute(
            "INSERT INTO groups (id, display_name, display_name_key, kind, managed, doc, version, created, modified)
             VALUES ('g', 'G', 'g', 'custom', 1, '{}', 1, 'now', 'now')",
            [],
        )
        .expect("group");
        let insert_person = "INSERT INTO people (id, user_name, user_name_key, active, state, doc, version, created, modified)
                             VALUES ('x', 'x', 'x', 1, ?1, '{}', 1, 'now', 'now')";
        let insert_group = "INSERT INTO groups (id, display_name, display_name_key, kind, managed, doc, version, created, modified)
                            VALUES ('h', 'H', 'h', ?1, 1, '{}', 1, 'now', 'now')";
        let ephemeral =
            |conn: &Connection, sql: &str| opcodes(conn, sql).iter().any(|o| o == "OpenEphemeral");
        assert!(
            ephemeral(&conn, insert_person),
            "before: the IN list builds a temporary index"
        );

        migrate(&mut conn, &path).expect("migrate");
        for sql in [insert_person, insert_group] {
            assert!(
                !ephemeral(&conn, sql),
                "after, on the migrating connection too: {sql}"
            );
        }
        // A connection opened afterwards reads the new schema as well.
        let other = Connection::open(&path).expect("reopen");
        assert!(!ephemeral(&other, insert_person));

        // The constraints still refuse what they refused, and take what they took.
        for (sql, unknown) in [(insert_person, "gone"), (insert_group, "team")] {
            let refused = conn.execute(sql, [unknown]).expect_err(unknown);
            assert!(
                refused.to_string().contains("CHECK constraint failed"),
                "{refused}"
            );
        }
        for state in ["invited", "active", "suspended", "removed"] {
            let tx = conn.unchecked_transaction().expect("tx");
            tx.execute(insert_person, [state]).expect(state);
            // dropped: rolled back, so the next state can use the same id
        }
        for kind in ["owners", "administrators", "custom"] {
            let tx = conn.unchecked_transaction().expect("tx");
            tx.execute(insert_group, [kind]).expect(kind);
        }
        let stored: String = conn
            .query_row("SELECT id FROM people WHERE seq = ?1", [kept], |r| r.get(0))
            .expect("the person from before");
        assert_eq!(stored, "kept");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity");
        assert_eq!(check, "ok");
        let writable: bool = conn
            .pragma_query_value(None, "writable_schema", |r| r.get(0))
            .expect("pragma");
        assert!(!writable, "writable_schema is off again");
    }

    #[test]
    fn a_database_from_a_newer_keybridge_is_refused() {
        let (_dir, path, mut conn) = empty_database();
        conn.pragma_update(None, "user_version", 99).expect("set");
        assert!(matches!(
            migrate(&mut conn, &path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
