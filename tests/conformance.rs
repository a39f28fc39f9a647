//! The two external SCIM conformance testers (scim2-tester through scim2-cli, and
//! scim-sanity) against the real `keybridge` binary. `scripts/install-peers.sh` installs
//! them; `scripts/conformance.sh` starts a fresh bridge, runs both and counts.

use std::process::Command;

#[test]
fn scim_conformance_testers_report_no_failures() {
    let root = env!("CARGO_MANIFEST_DIR");
    let install = Command::new(format!("{root}/scripts/install-peers.sh"))
        .status()
        .expect("run install-peers.sh");
    assert!(
        install.success(),
        "installing the conformance testers failed"
    );
    let out = Command::new(format!("{root}/scripts/conformance.sh"))
        .arg(env!("CARGO_BIN_EXE_keybridge"))
        .current_dir(root)
        .output()
        .expect("run conformance.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.ends_with(" failed"))
        .unwrap_or("no summary line");
    assert!(out.status.success(), "conformance failures: {summary}");
    assert!(summary.ends_with(", 0 failed"), "{summary}");
}
