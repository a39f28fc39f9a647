//! Output printed as Go's `encoding/json` and `fmt` print it.

use crate::gofmt::{format_e, format_g, format_json_float};
use crate::gojson::{to_json, to_json_indent};
use crate::Value;

#[test]
fn floats_print_like_go_json() {
    for (f, want) in [
        (2.0, "2"),
        (1.5, "1.5"),
        (-0.0, "-0"),
        (0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789.0, "123456789"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (1.5e-10, "1.5e-10"),
        (-2.5e22, "-2.5e+22"),
        (0.1, "0.1"),
        (1.0 / 3.0, "0.3333333333333333"),
    ] {
        assert_eq!(format_json_float(f), want, "{f:e}");
    }
}

#[test]
fn floats_print_like_go_fmt() {
    for (f, want) in [
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5, "1.5"),
        (100.0, "100"),
        (f64::INFINITY, "+Inf"),
        (f64::NAN, "NaN"),
    ] {
        assert_eq!(format_g(f), want, "{f:e}");
    }
    assert_eq!(format_e(1e21), "1e+21");
    assert_eq!(format_e(1.25e-7), "1.25e-07");
}

#[test]
fn strings_are_escaped_like_go_including_html_characters() {
    let v = Value::str("<a href=\"x\">&</a>\n\t\u{1}\u{8}\u{c}\u{2028}é");
    assert_eq!(
        to_json(&v).as_deref(),
        Ok(r#""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e\n\t\u0001\b\f\u2028é""#)
    );
}

#[test]
fn maps_print_with_sorted_keys_and_go_indentation() {
    let v =
        Value::from_json(&serde_json::json!({"b": [1, {"d": null, "c": true}], "a": {}, "e": []}));
    assert_eq!(
        to_json(&v).as_deref(),
        Ok(r#"{"a":{},"b":[1,{"c":true,"d":null}],"e":[]}"#)
    );
    assert_eq!(
        to_json_indent(&v, "  ").as_deref(),
        Ok("{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"c\": true,\n      \"d\": null\n    }\n  ],\n  \"e\": []\n}")
    );
}

#[test]
fn non_finite_floats_are_refused() {
    assert_eq!(
        to_json(&Value::Float(f64::NAN)),
        Err("json: unsupported value: NaN".to_string())
    );
    assert_eq!(
        to_json(&Value::Float(f64::NEG_INFINITY)),
        Err("json: unsupported value: -Inf".to_string())
    );
}
