//! The explorer in headless Chromium (Debian `chromium`, driven by npm
//! `playwright-core`; `scripts/test.sh` installs both). The screenshot is
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

#[test]
fn explorer_follows_the_seed_counterexample_in_chromium() {
    let browser_dir = root().join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists(),
        "tests/browser/node_modules is missing: run ./scripts/test.sh (it runs `npm ci` there)"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_authrace"))
        .args([
            "explore",
            "models/seed-better-auth-ungated.toml",
            "--addr",
            "127.0.0.1:0",
        ])
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

    let artifacts = root().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("explorer-seed-counterexample.png");
    let _ = std::fs::remove_file(&shot);
    let out = Command::new("node")
        .arg("explorer.mjs")
        .arg(&url)
        .arg("query-runs-authenticated")
        .arg(&shot)
        .current_dir(&browser_dir)
        .output()
        .expect("node runs");
    drop(guard);
    assert!(
        out.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
