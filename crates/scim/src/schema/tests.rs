use super::*;

fn path(s: &str) -> AttrPath {
    crate::path::parse_attr_path(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn resolved(rt: ResourceType, s: &str) -> Result<AttrPath, String> {
    resolve_attr(rt, &path(s))
        .map(|r| r.to_path())
        .map_err(|e| e.detail)
}

#[test]
fn core_attributes_resolve_case_insensitively_with_or_without_urn() {
    let want = AttrPath {
        urn: Some(CORE_USER.into()),
        attr: "userName".into(),
        sub_attr: None,
    };
    assert_eq!(resolved(ResourceType::User, "USERNAME"), Ok(want.clone()));
    assert_eq!(
        resolved(
            ResourceType::User,
            "urn:ietf:params:scim:schemas:core:2.0:User:userName"
        ),
        Ok(want.clone())
    );
    assert_eq!(
        resolved(
            ResourceType::User,
            "URN:IETF:params:scim:schemas:core:2.0:user:username"
        ),
        Ok(want)
    );
}

#[test]
fn sub_attributes_resolve_to_canonical_case() {
    let r = resolved(ResourceType::User, "name.givenname");
    assert_eq!(r.map(|p| p.sub_attr), Ok(Some("givenName".into())));
}

#[test]
fn enterprise_manager_value_resolves_with_its_urn() {
    let r = resolve_attr(
        ResourceType::User,
        &path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
    );
    let r = r.map(|r| (r.urn, r.attr.name, r.sub_attr.map(|s| s.name)));
    assert_eq!(r, Ok((ENTERPRISE_USER, "manager", Some("value"))));
}

#[test]
fn a_bare_extension_attribute_is_not_found_and_the_error_says_how_to_write_it() {
    let e = resolved(ResourceType::User, "department")
        .err()
        .unwrap_or_default();
    assert!(
        e.contains("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
        "{e}"
    );
}

#[test]
fn common_attributes_resolve_under_the_core_urn() {
    assert_eq!(
        resolved(ResourceType::Group, "meta.lastModified").map(|p| p.urn),
        Ok(Some(CORE_GROUP.into()))
    );
    assert_eq!(
        resolved(ResourceType::User, "externalid").map(|p| p.attr),
        Ok("externalId".into())
    );
}

#[test]
fn unknown_names_urns_and_sub_attributes_are_errors() {
    assert!(resolved(ResourceType::User, "nope").is_err());
    assert!(resolved(ResourceType::User, "urn:example:ext:1.0:User:x").is_err());
    assert!(resolved(ResourceType::User, "name.nope").is_err());
    assert!(resolved(ResourceType::User, "userName.x").is_err());
    assert!(resolved(ResourceType::Group, "userName").is_err());
    assert!(resolved(
        ResourceType::Group,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
    )
    .is_err());
}

#[test]
fn schema_error_becomes_the_scim_type_the_caller_picks() {
    let e = resolve_attr(ResourceType::User, &path("nope")).err();
    assert_eq!(
        e.clone().map(|e| e.into_filter_error().scim_type),
        Some(Some(ScimType::InvalidFilter))
    );
    assert_eq!(
        e.map(|e| e.into_path_error().scim_type),
        Some(Some(ScimType::InvalidPath))
    );
}

#[test]
fn the_characteristics_follow_rfc_7643() {
    let user = ResourceType::User.core_schema();
    let find = |n: &str| user.attribute(n).copied();
    assert_eq!(
        find("password").map(|a| (a.mutability, a.returned)),
        Some((Mutability::WriteOnly, Returned::Never))
    );
    assert_eq!(
        find("groups").map(|a| (a.mutability, a.multi_valued)),
        Some((Mutability::ReadOnly, true))
    );
    assert_eq!(
        find("userName").map(|a| (a.required, a.uniqueness, a.returned)),
        Some((true, Uniqueness::Server, Returned::Default))
    );
    let id = common_attributes().iter().find(|a| a.name == "id").copied();
    assert_eq!(
        id.map(|a| (a.returned, a.case_exact)),
        Some((Returned::Always, true))
    );
    let state = ResourceType::User
        .extension(KEYBRIDGE_USER)
        .and_then(|s| s.attribute("state"))
        .copied();
    assert_eq!(
        state.map(|a| (a.mutability, a.canonical_values)),
        Some((
            Mutability::ReadOnly,
            &["invited", "active", "suspended", "removed"][..]
        ))
    );
    let manager = ResourceType::User
        .extension(ENTERPRISE_USER)
        .and_then(|s| s.attribute("manager"))
        .copied();
    assert_eq!(
        manager.map(|m| m.sub_attributes.iter().map(|s| s.name).collect::<Vec<_>>()),
        Some(vec!["value", "$ref", "displayName"])
    );
}
