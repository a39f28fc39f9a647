//! PATCH and attribute paths, and `attributes=` lists.
#![no_main]

use keybridge_scim::schema::ResourceType;
use keybridge_scim::{parse_attr_path, parse_attribute_list, parse_patch_path};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_patch_path(text);
    let _ = parse_attr_path(text);
    let _ = parse_attribute_list(ResourceType::User, text);
    let _ = parse_attribute_list(ResourceType::Group, text);
});
