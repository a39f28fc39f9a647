//! The team's attribute-mapping table: kept in the store, versioned so every change is
//! auditable, validated before it is saved, and used for previews. A store that never
//! saved one uses the default 1Password table (version 0).

use keybridge_mapping::{
    default_table, CompiledTable, MappingTable, Preview, RowError, TableError,
};
use serde_json::Value;

use crate::directory::audit;
use crate::store::{self, now_timestamp, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MappingsError {
    /// The table has bad rows; each says which row, which column and what is wrong.
    #[error("{}", TableError::Rows(.0.clone()))]
    InvalidRows(Vec<RowError>),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The table in force and where it came from.
#[derive(Debug, Clone)]
pub struct CurrentTable {
    /// 0 for the built-in default.
    pub version: i64,
    pub table: MappingTable,
    pub saved_at: Option<String>,
    pub actor: Option<String>,
}

/// The table in force.
pub async fn current(store: &Store) -> Result<CurrentTable, MappingsError> {
    let latest = store
        .read(|conn| -> Result<_, StoreError> { store::mappings::latest(conn) })
        .await?;
    Ok(match latest {
        Some(v) => CurrentTable {
            version: v.version,
            table: MappingTable::from_json(&v.body)?,
            saved_at: Some(v.saved_at),
            actor: Some(v.actor),
        },
        None => CurrentTable {
            version: 0,
            table: default_table(),
            saved_at: None,
            actor: None,
        },
    })
}

/// Validates `table` (every bad row reported) and saves it as a new version.
pub async fn save(
    store: &Store,
    actor: &str,
    table: &MappingTable,
    note: Option<&str>,
) -> Result<i64, MappingsError> {
    let errors = table.validate();
    if !errors.is_empty() {
        return Err(MappingsError::InvalidRows(errors));
    }
    let body = table.to_json_pretty();
    let (actor, note) = (actor.to_owned(), note.map(str::to_owned));
    store
        .write(move |conn| -> Result<i64, MappingsError> {
            let version =
                store::mappings::insert(conn, &body, &now_timestamp(), &actor, note.as_deref())?;
            let subject = audit::Subject {
                resource_type: Some("MappingTable"),
                id: Some(version.to_string()),
                name: None,
            };
            audit::success(
                conn,
                audit::MAPPING_UPDATE,
                subject,
                vec!["rows".into()],
                &actor,
            )?;
            Ok(version)
        })
        .await
}

/// Saves the default table as a new version ("restore defaults").
pub async fn restore_defaults(store: &Store, actor: &str) -> Result<i64, MappingsError> {
    save(store, actor, &default_table(), Some("restored defaults")).await
}

/// What JumpCloud would send for `jc_user` with the table in force.
pub async fn preview(
    store: &Store,
    jc_user: &Value,
    provider_user: Option<&Value>,
    is_create: bool,
) -> Result<Preview, MappingsError> {
    let current = current(store).await?;
    let compiled = CompiledTable::compile(&current.table)?;
    Ok(keybridge_mapping::preview(
        jc_user,
        provider_user,
        &compiled,
        is_create,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn saving_versions_the_table_and_bad_rows_change_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Default::default()).expect("store");
        assert_eq!(current(&store).await.expect("current").version, 0);
        let mut table = default_table();
        table.rows.truncate(3);
        assert_eq!(save(&store, "admin", &table, None).await.expect("save"), 1);
        let now = current(&store).await.expect("current");
        assert_eq!((now.version, now.table.rows.len()), (1, 3));
        let mut bad = table.clone();
        bad.rows[0].kind = keybridge_mapping::SourceKind::Expression;
        bad.rows[0].source = serde_json::json!("jcUser.firstname +");
        match save(&store, "admin", &bad, None).await {
            Err(MappingsError::InvalidRows(rows)) => assert_eq!(rows[0].row, 0),
            other => panic!("expected invalid rows, got {other:?}"),
        }
        assert_eq!(
            current(&store).await.expect("current").version,
            1,
            "a rejected table saves nothing"
        );
        assert_eq!(restore_defaults(&store, "admin").await.expect("restore"), 2);
        assert_eq!(
            current(&store).await.expect("current").table,
            default_table()
        );
    }
}
