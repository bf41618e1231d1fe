//! The explorer in headless Chromium (Debian `chromium`, driven by npm
//! `playwright-core`; `scripts/test.sh` installs both). Screenshots are
//! written to `tests/artifacts/`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::root;

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `authrace explore` on `scenario` on a free port: its URL and the
/// process (ended when dropped).
fn explorer(scenario: &str) -> (String, Killed) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args(["explore", scenario, "--addr", "127.0.0.1:0"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
        .expect("explorer starts");
    let stdout = child.stdout.take().unwrap();
    let guard = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("explorer announced its address: {line}"))
        .to_string();
    (url, guard)
}

#[test]
fn explorer_follows_counterexamples_witnesses_and_imported_traces_in_chromium() {
    let browser_dir = root().join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists(),
        "tests/browser/node_modules is missing: run ./scripts/test.sh (it runs `npm ci` there)"
    );
    let (seed, seed_guard) = explorer("models/seed-better-auth-ungated.toml");
    let (live, live_guard) = explorer("models/reports/convex-auth-178-reauth-after-expiry.toml");

    let artifacts = root().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shots = [
        "explorer-seed-counterexample.png",
        "explorer-bad-path.png",
        "explorer-liveness-continuation.png",
    ];
    for s in shots {
        let _ = std::fs::remove_file(artifacts.join(s));
    }
    let out = Command::new("node")
        .arg("explorer.mjs")
        .arg(&seed)
        .arg(&live)
        .arg(env!("CARGO_BIN_EXE_authrace"))
        .arg(&artifacts)
        .current_dir(&browser_dir)
        .output()
        .expect("node runs");
    drop(seed_guard);
    drop(live_guard);
    assert!(
        out.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for s in shots {
        let png = std::fs::read(artifacts.join(s)).expect("screenshot written");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{s}");
    }
}
