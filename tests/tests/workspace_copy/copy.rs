//! Copying the workspace, editing its spec, and running cargo in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

/// One copy at a time: they build into, and run binaries from, the same target directory.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// This workspace's root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

/// The target directory this test was built in (`<target>/debug/deps/<this test>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    exe.ancestors().nth(3).expect("the test runs from <target>/<profile>/deps").to_path_buf()
}

/// A copy of the workspace in a temporary directory, removed when dropped; while it lives, no
/// other copy is worked on.
pub struct Copy {
    pub root: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

impl Copy {
    pub fn new(name: &str) -> Copy {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let root = std::env::temp_dir().join(format!("credits-{name}-{}", std::process::id())).join("credits");
        let _ = std::fs::remove_dir_all(&root);
        copy_tree(&workspace_root(), &root);
        Copy { root, _turn: turn }
    }

    /// Edits the copy's spec.
    pub fn edit_spec(&self, edit: impl FnOnce(&mut Value)) {
        let path = self.root.join("openapi/credits.json");
        let mut spec: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut spec);
        std::fs::write(&path, serde_json::to_string_pretty(&spec).unwrap() + "\n").unwrap();
    }

    /// Gives every package of the copy another version, so that its artifacts are its own.
    pub fn set_versions(&self, version: &str) {
        for dir in ["crates", "tests", "xtask"] {
            for manifest in manifests(&self.root.join(dir)) {
                let text = std::fs::read_to_string(&manifest).unwrap();
                let text = text.replacen("version = \"0.1.0\"", &format!("version = \"{version}\""), 1);
                std::fs::write(&manifest, text).unwrap();
            }
        }
    }

    /// Runs cargo in the copy, with this run's target directory.
    pub fn cargo(&self, args: &[&str]) -> Output {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Command::new(cargo)
            .args(args)
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", target_dir())
            .env_remove("CARGO_MANIFEST_DIR")
            .output()
            .expect("cargo runs")
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.root.join(relative)).unwrap()
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        if let Some(parent) = self.root.parent() {
            let _ = std::fs::remove_dir_all(parent);
        }
        // Put this workspace's own binaries back at the top of the target directory (cargo links
        // them again even when nothing needs rebuilding).
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let _ = Command::new(cargo)
            .args(["build", "--quiet", "-p", "credits-server", "-p", "xtask"])
            .current_dir(workspace_root())
            .env("CARGO_TARGET_DIR", target_dir())
            .env_remove("CARGO_MANIFEST_DIR")
            .status();
    }
}

/// What a command printed, for failure messages.
pub fn printed(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn copy_tree(from: &Path, to: &Path) {
    const SKIPPED: &[&str] = &["target", ".git", ".venv", "data", ".schemathesis"];
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name));
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(manifests(&path));
        } else if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            found.push(path);
        }
    }
    found
}
