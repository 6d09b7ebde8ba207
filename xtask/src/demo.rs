//! `cargo xtask demo`: builds and runs the `credits-demo` binary. The demo lives in its own crate
//! so that the xtask stays light (it would otherwise compile the server and the Stripe SDK just
//! to regenerate code).

use std::process::Command;

use anyhow::{Context, bail};

use crate::workspace_root;

pub(crate) fn run() -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["run", "--quiet", "--package", "credits-demo"])
        .current_dir(workspace_root())
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("the demo failed ({status})");
    }
    Ok(())
}
