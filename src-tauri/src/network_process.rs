//! Ends WebKit's network process while Keybridge has no window.
//!
//! On Linux every webview talks to one WebKitNetworkProcess, a child of the app. WebKitGTK
//! starts it with the first webview and never ends it, and has no call that would (Tauri
//! keeps it on purpose: tauri#14626). For a tray app that spends its days with the window
//! closed it is about 16 MiB of memory doing nothing (the README's measurements). WebKit
//! starts a new one when a webview needs it again, as after a crash of the old one, so
//! once the window has been gone a few seconds the app ends it. Nothing is lost with it:
//! the UI keeps no cookies or web storage of its own (its theme is in the store).

use std::path::Path;
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};

/// The network process's executable, as WebKitGTK installs it.
const NETWORK_PROCESS: &str = "WebKitNetworkProcess";

/// How long after the window closed: the web process winds down first, and its last
/// messages go through the network process.
const GRACE: Duration = Duration::from_secs(3);

/// Called when the main window was destroyed: after the grace period, if no window came
/// back meanwhile, ends the network process. Checked on the main thread, where windows
/// are built, so a window opened at the same moment is either seen or starts its own.
pub fn end_when_idle<R: Runtime>(handle: &AppHandle<R>) {
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(GRACE).await;
        let check = handle.clone();
        let result = handle.run_on_main_thread(move || {
            if check.webview_windows().is_empty() {
                let ended = end_children_running(NETWORK_PROCESS);
                if ended > 0 {
                    tracing::debug!(
                        ended,
                        "ended WebKit's network process while no window is open"
                    );
                }
            }
        });
        if let Err(e) = result {
            tracing::debug!(error = %e, "WebKit's network process stays");
        }
    });
}

/// Sends SIGTERM to each child of this process whose executable is called `name`;
/// answers how many it reached.
pub fn end_children_running(name: &str) -> usize {
    children_running(name)
        .into_iter()
        .filter(|&pid| terminate(pid))
        .count()
}

/// This process's children whose executable's file name is `name`.
pub fn children_running(name: &str) -> Vec<i32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| parent_of(pid) == Some(me) && runs(pid, name))
        .collect()
}

/// The parent's pid, from `/proc/PID/stat`: the fields after the name, which is in
/// parentheses and may itself hold spaces and parentheses, are `state ppid …`.
fn parent_of(pid: i32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Whether `pid` runs an executable called `name` (also once a package upgrade has
/// replaced the file, when the link ends in " (deleted)").
fn runs(pid: i32, name: &str) -> bool {
    let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
        return false;
    };
    let file = Path::new(&exe).file_name().and_then(|n| n.to_str());
    file.is_some_and(|f| f == name || f.strip_suffix(" (deleted)") == Some(name))
}

fn terminate(pid: i32) -> bool {
    use rustix::process::{kill_process, Pid, Signal};
    Pid::from_raw(pid).is_some_and(|p| kill_process(p, Signal::TERM).is_ok())
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Child, Command};

    use super::*;

    /// A child running a copy of `sleep` under `name` (so that its /proc/PID/exe is
    /// called that).
    fn child_named(dir: &Path, name: &str) -> Child {
        let exe = dir.join(name);
        std::fs::copy("/bin/sleep", &exe).expect("copy sleep");
        Command::new(&exe).arg("30").spawn().expect("spawn")
    }

    #[test]
    fn only_this_process_s_children_running_the_named_executable_are_ended() {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = "KeybridgeTestNetworkProcess";
        let mut target = child_named(dir.path(), name);
        let mut bystander = child_named(dir.path(), "KeybridgeTestBystander");
        let pid = i32::try_from(target.id()).expect("pid");
        assert_eq!(children_running(name), vec![pid]);

        assert_eq!(end_children_running(name), 1);
        let status = target.wait().expect("wait");
        assert_eq!(status.signal(), Some(15), "ended by SIGTERM");
        assert!(
            bystander.try_wait().expect("try_wait").is_none(),
            "another child keeps running"
        );
        assert_eq!(end_children_running(name), 0, "nothing left to end");
        bystander.kill().expect("kill");
        bystander.wait().expect("wait");
    }

    #[test]
    fn a_name_with_parentheses_and_spaces_does_not_confuse_the_parent_lookup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = child_named(dir.path(), "a (b) c");
        let pid = i32::try_from(child.id()).expect("pid");
        assert_eq!(parent_of(pid), Some(std::process::id()));
        assert_eq!(children_running("a (b) c"), vec![pid]);
        child.kill().expect("kill");
        child.wait().expect("wait");
    }
}
