use super::support::{error, run};

#[test]
fn smoke() {
    assert_eq!(run("1 + 2"), "3");
    assert_eq!(run("user.name + '!'"), "\"Ada!\"");
    assert_eq!(run("find(user.tags, # == 'b')"), "\"b\"");
    let jc = r#"{"_id":"abc","email":"ada@example.com","firstname":"Ada","lastname":"Lovelace","department":"R&D",
      "addresses":[{"type":"home","locality":"London"},{"type":"work","streetAddress":"1 Main St","locality":"Paris","country":"FR"}],
      "phoneNumbers":[{"type":"work_mobile","number":"+33 1"}]}"#;
    println!("{}", crate::map_command(jc, None, None).unwrap_or_else(|e| e));
    println!("{}", crate::expr_command("date('2023-08-14T10:00:00Z').In(timezone('Europe/Paris')).Format('Mon Jan _2 15:04:05 MST 2006 -07:00')", None).unwrap_or_else(|e| e));
    println!("{}", crate::expr_command("[1e21, 2.0, 1e-7, 0.1, '<a&b>', {b: 1, a: nil}, now() - now(), duration('1h30m').String()]", None).unwrap_or_else(|e| e));
    println!("{}", crate::expr_command("jcUser.email + 1", Some(r#"{"jcUser": {"email": "x"}}"#)).unwrap_or_else(|e| e));
    println!("{}", error("1 + + "));
}
