use super::support::{error, run};

#[test]
fn smoke() {
    assert_eq!(run("1 + 2"), "3");
    assert_eq!(run("user.name + '!'"), "\"Ada!\"");
    assert_eq!(run("find(user.tags, # == 'b')"), "\"b\"");
    assert_eq!(error("1 + + "), "x");
}
