//! The attribute tables of RFC 7643 §4 and §8.7.1 (plus Keybridge's account extension),
//! written with small `const` builders so each attribute reads as one line of its
//! characteristics.

use super::{
    AttrDef, AttrType, Mutability, Returned, SchemaDef, Uniqueness, CORE_GROUP, CORE_USER,
    ENTERPRISE_USER, KEYBRIDGE_USER,
};

const fn attr(name: &'static str, attr_type: AttrType, description: &'static str) -> AttrDef {
    AttrDef {
        name,
        attr_type,
        multi_valued: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        required: false,
        canonical_values: &[],
        sub_attributes: &[],
        reference_types: &[],
        description,
    }
}

const fn string(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::String, description)
}

const fn boolean(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::Boolean, description)
}

const fn reference(
    name: &'static str,
    types: &'static [&'static str],
    description: &'static str,
) -> AttrDef {
    let mut a = attr(name, AttrType::Reference, description);
    a.reference_types = types;
    a
}

const fn complex(
    name: &'static str,
    subs: &'static [AttrDef],
    description: &'static str,
) -> AttrDef {
    let mut a = attr(name, AttrType::Complex, description);
    a.sub_attributes = subs;
    a
}

const fn multi(mut a: AttrDef) -> AttrDef {
    a.multi_valued = true;
    a
}

const fn exact(mut a: AttrDef) -> AttrDef {
    a.case_exact = true;
    a
}

const fn read_only(mut a: AttrDef) -> AttrDef {
    a.mutability = Mutability::ReadOnly;
    a
}

const fn immutable(mut a: AttrDef) -> AttrDef {
    a.mutability = Mutability::Immutable;
    a
}

const fn required(mut a: AttrDef) -> AttrDef {
    a.required = true;
    a
}

const fn canonical(mut a: AttrDef, values: &'static [&'static str]) -> AttrDef {
    a.canonical_values = values;
    a
}

const PRIMARY: AttrDef = boolean(
    "primary",
    "A Boolean value indicating the 'primary' or preferred attribute value.",
);
const DISPLAY: AttrDef = string(
    "display",
    "A human-readable name, primarily used for display purposes.",
);

pub(super) const COMMON_ATTRS: &[AttrDef] = &[
    AttrDef {
        returned: Returned::Always,
        uniqueness: Uniqueness::Server,
        ..exact(read_only(string(
            "id",
            "A unique identifier for the resource, assigned by the service provider.",
        )))
    },
    exact(string(
        "externalId",
        "An identifier for the resource as defined by the provisioning client.",
    )),
    read_only(complex("meta", META_SUBS, "Resource metadata.")),
];

const META_SUBS: &[AttrDef] = &[
    exact(read_only(string(
        "resourceType",
        "The name of the resource type of the resource.",
    ))),
    read_only(attr(
        "created",
        AttrType::DateTime,
        "When the resource was added to the service provider.",
    )),
    read_only(attr(
        "lastModified",
        AttrType::DateTime,
        "When the resource was last modified.",
    )),
    read_only(reference("location", &["uri"], "The URI of the resource.")),
    exact(read_only(string(
        "version",
        "The version (ETag) of the resource.",
    ))),
];

const NAME_SUBS: &[AttrDef] = &[
    string(
        "formatted",
        "The full name, including all middle names, titles, and suffixes, formatted for display.",
    ),
    string("familyName", "The family name of the User, or last name."),
    string("givenName", "The given name of the User, or first name."),
    string("middleName", "The middle name(s) of the User."),
    string(
        "honorificPrefix",
        "The honorific prefix(es) of the User, or title.",
    ),
    string(
        "honorificSuffix",
        "The honorific suffix(es) of the User, or suffix.",
    ),
];

const EMAIL_SUBS: &[AttrDef] = &[
    string("value", "Email address for the User."),
    DISPLAY,
    canonical(
        string("type", "A label indicating the email's function."),
        &["work", "home", "other"],
    ),
    PRIMARY,
];

const PHONE_SUBS: &[AttrDef] = &[
    string("value", "Phone number of the User."),
    DISPLAY,
    canonical(
        string("type", "A label indicating the phone number's function."),
        &["work", "home", "mobile", "fax", "pager", "other"],
    ),
    PRIMARY,
];

const IM_SUBS: &[AttrDef] = &[
    string("value", "Instant messaging address for the User."),
    DISPLAY,
    canonical(
        string("type", "A label indicating the instant messaging service."),
        &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
    ),
    PRIMARY,
];

const PHOTO_SUBS: &[AttrDef] = &[
    reference("value", &["external"], "URL of a photo of the User."),
    DISPLAY,
    canonical(
        string("type", "A label indicating the photo's function."),
        &["photo", "thumbnail"],
    ),
    PRIMARY,
];

const ADDRESS_SUBS: &[AttrDef] = &[
    string(
        "formatted",
        "The full mailing address, formatted for display or use with a mailing label.",
    ),
    string("streetAddress", "The full street address component."),
    string("locality", "The city or locality component."),
    string("region", "The state or region component."),
    string("postalCode", "The zip code or postal code component."),
    string("country", "The country name component."),
    canonical(
        string("type", "A label indicating the address's function."),
        &["work", "home", "other"],
    ),
    PRIMARY,
];

const GROUPS_SUBS: &[AttrDef] = &[
    read_only(string("value", "The identifier of the User's group.")),
    read_only(reference(
        "$ref",
        &["User", "Group"],
        "The URI of the corresponding Group resource.",
    )),
    read_only(DISPLAY),
    read_only(canonical(
        string(
            "type",
            "A label indicating the membership: direct or indirect.",
        ),
        &["direct", "indirect"],
    )),
];

const PLAIN_MULTI_SUBS: &[AttrDef] = &[
    string("value", "The value of the attribute."),
    DISPLAY,
    string("type", "A label indicating the attribute's function."),
    PRIMARY,
];

const CERT_SUBS: &[AttrDef] = &[
    attr(
        "value",
        AttrType::Binary,
        "The value of an X.509 certificate (DER, base64).",
    ),
    DISPLAY,
    string("type", "A label indicating the attribute's function."),
    PRIMARY,
];

const USER_ATTRS: &[AttrDef] = &[
    AttrDef {
        uniqueness: Uniqueness::Server,
        ..required(string(
            "userName",
            "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.",
        ))
    },
    complex("name", NAME_SUBS, "The components of the user's real name."),
    string("displayName", "The name of the User, suitable for display to end-users."),
    string("nickName", "The casual way to address the user in real life."),
    reference("profileUrl", &["external"], "A fully qualified URL pointing to a page representing the User's online profile."),
    string("title", "The user's title, such as \"Vice President\"."),
    string("userType", "Used to identify the relationship between the organization and the user."),
    string("preferredLanguage", "Indicates the User's preferred written or spoken language."),
    string("locale", "Used to indicate the User's default location for localization purposes."),
    string("timezone", "The User's time zone in the 'Olson' time zone database format."),
    boolean("active", "A Boolean value indicating the User's administrative status."),
    AttrDef {
        mutability: Mutability::WriteOnly,
        returned: Returned::Never,
        ..string("password", "The User's cleartext password. Keybridge never stores or returns it.")
    },
    multi(complex("emails", EMAIL_SUBS, "Email addresses for the user.")),
    multi(complex("phoneNumbers", PHONE_SUBS, "Phone numbers for the User.")),
    multi(complex("ims", IM_SUBS, "Instant messaging addresses for the User.")),
    multi(complex("photos", PHOTO_SUBS, "URLs of photos of the User.")),
    multi(complex("addresses", ADDRESS_SUBS, "A physical mailing address for this User.")),
    read_only(multi(complex("groups", GROUPS_SUBS, "A list of groups to which the user belongs."))),
    multi(complex("entitlements", PLAIN_MULTI_SUBS, "A list of entitlements for the User.")),
    multi(complex("roles", PLAIN_MULTI_SUBS, "A list of roles for the User.")),
    multi(complex("x509Certificates", CERT_SUBS, "A list of certificates issued to the User.")),
];

const MANAGER_SUBS: &[AttrDef] = &[
    string(
        "value",
        "The id of the SCIM resource representing the User's manager.",
    ),
    reference(
        "$ref",
        &["User"],
        "The URI of the SCIM resource representing the User's manager.",
    ),
    read_only(string(
        "displayName",
        "The displayName of the User's manager.",
    )),
];

const ENTERPRISE_ATTRS: &[AttrDef] = &[
    string(
        "employeeNumber",
        "Numeric or alphanumeric identifier assigned to a person.",
    ),
    string("costCenter", "Identifies the name of a cost center."),
    string("organization", "Identifies the name of an organization."),
    string("division", "Identifies the name of a division."),
    string("department", "Identifies the name of a department."),
    complex("manager", MANAGER_SUBS, "The User's manager."),
];

const KEYBRIDGE_ATTRS: &[AttrDef] = &[
    exact(read_only(canonical(
        string("state", "The person's account state: invited (provisioned, not yet joined), active (joined), suspended (deprovisioned after joining) or removed (deprovisioned before joining)."),
        &["invited", "active", "suspended", "removed"],
    ))),
    exact(read_only(string("role", "The person's role in the account."))),
];

const MEMBER_SUBS: &[AttrDef] = &[
    immutable(string("value", "Identifier of the member of this Group.")),
    immutable(reference(
        "$ref",
        &["User", "Group"],
        "The URI of the member resource.",
    )),
    read_only(DISPLAY),
    immutable(canonical(
        string("type", "A label indicating the type of resource."),
        &["User", "Group"],
    )),
];

const GROUP_ATTRS: &[AttrDef] = &[
    required(string(
        "displayName",
        "A human-readable name for the Group.",
    )),
    multi(complex(
        "members",
        MEMBER_SUBS,
        "A list of members of the Group.",
    )),
];

pub(super) static USER_SCHEMA: SchemaDef = SchemaDef {
    id: CORE_USER,
    name: "User",
    description: "User Account",
    attributes: USER_ATTRS,
};

pub(super) static ENTERPRISE_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: ENTERPRISE_ATTRS,
};

pub(super) static KEYBRIDGE_SCHEMA: SchemaDef = SchemaDef {
    id: KEYBRIDGE_USER,
    name: "KeybridgeAccount",
    description: "Keybridge account state of a person (read-only)",
    attributes: KEYBRIDGE_ATTRS,
};

pub(super) static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: CORE_GROUP,
    name: "Group",
    description: "Group",
    attributes: GROUP_ATTRS,
};
