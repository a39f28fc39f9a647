//! What the SQL compiler needs from the SCIM schema: each attribute's type, plurality and
//! case sensitivity.

use keybridge_scim::schema::{find_attr, AttrDef, AttrType, ResourceType};

use crate::store::sql_filter::{AttrInfo, AttrKind};

fn info(def: &AttrDef) -> AttrInfo {
    let kind = match def.attr_type {
        AttrType::String | AttrType::Reference | AttrType::Binary => AttrKind::String,
        AttrType::Boolean => AttrKind::Boolean,
        AttrType::Decimal | AttrType::Integer => AttrKind::Number,
        AttrType::DateTime => AttrKind::DateTime,
        AttrType::Complex => AttrKind::Complex,
    };
    AttrInfo {
        kind,
        multi_valued: def.multi_valued,
        case_exact: def.case_exact,
    }
}

/// A lookup over `rt`'s schemas for the SQL compiler.
pub fn lookup(rt: ResourceType) -> impl Fn(&str, &str, Option<&str>) -> Option<AttrInfo> {
    move |urn, attr, sub| {
        let (_, def) = find_attr(rt, Some(urn), attr).ok()?;
        match sub {
            None => Some(info(def)),
            Some(s) => def.sub_attribute(s).map(info),
        }
    }
}
