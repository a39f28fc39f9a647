//! The `keybridge expr` and `keybridge map` commands, as functions the binary calls:
//! text in, text out, no I/O here.

use std::sync::Arc;

use crate::expression::Expression;
use crate::gojson;
use crate::preview::map_user;
use crate::table::{default_table, CompiledTable, MappingTable};
use crate::value::Value;

/// `keybridge expr 'EXPRESSION' [--env FILE.json]`: evaluates `expression` with the
/// top-level keys of `env_json` (a JSON object) as variables and returns the result as
/// compact JSON printed the way Go's `encoding/json` prints it. On failure, the
/// positioned error text (message, `(line:col)`, source line, caret).
///
/// JumpCloud's functions (`notNullOrEmpty`, `toScimEmails`, …) are always available;
/// give `jcUser`/`providerUser` in the environment to try a mapping expression.
pub fn expr_command(expression: &str, env_json: Option<&str>) -> Result<String, String> {
    let (names, values) = match env_json {
        None => (Vec::new(), Vec::new()),
        Some(text) => {
            let json: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| format!("the environment is not valid JSON: {e}"))?;
            let Some(object) = json.as_object() else {
                return Err(
                    "the environment must be a JSON object whose keys are the variables".into(),
                );
            };
            object
                .iter()
                .map(|(k, v)| (Arc::<str>::from(k.as_str()), Value::from_json(v)))
                .unzip()
        }
    };
    let names: Vec<&str> = names.iter().map(|n: &Arc<str>| &**n).collect();
    let compiled = Expression::compile(expression, &names).map_err(|e| e.to_string())?;
    let result = compiled.eval(&values).map_err(|e| e.to_string())?;
    gojson::to_json(&result)
}

/// `keybridge map --jc-user FILE.json [--provider-user FILE.json] [--table FILE.json]`:
/// the SCIM User (pretty JSON) that `table_json` (None: the default table) produces for
/// the JumpCloud user. Without a provider user it is a create, so create-only rows
/// apply. Fails with a list of every bad row — invalid rows of the table, or rows whose
/// expression failed for this user.
pub fn map_command(
    jc_user_json: &str,
    provider_user_json: Option<&str>,
    table_json: Option<&str>,
) -> Result<String, String> {
    let jc_user: serde_json::Value = serde_json::from_str(jc_user_json)
        .map_err(|e| format!("the JumpCloud user is not valid JSON: {e}"))?;
    let provider: Option<serde_json::Value> = provider_user_json
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| format!("the provider user is not valid JSON: {e}"))?;
    let table = match table_json {
        Some(text) => MappingTable::from_json(text).map_err(|e| e.to_string())?,
        None => default_table(),
    };
    let compiled = CompiledTable::compile(&table).map_err(|e| e.to_string())?;
    let env = compiled.environment(&jc_user, provider.as_ref());
    let mapped = map_user(&env, &compiled, provider.is_none());
    let failures = mapped.failures();
    if !failures.is_empty() {
        return Err(format!(
            "{} row(s) failed for this user:\n{}",
            failures.len(),
            failures.join("\n")
        ));
    }
    gojson::to_json_indent(&mapped.user, "  ")
}
