//! Two clones sharing one target directory (and so one `xtask` binary): `cargo xtask codegen`
//! in the second checks and writes the second's files, never the first's.

use crate::copy::{Copy, printed, workspace_root};

const GENERATED: &str = "crates/credits-api/src/generated.rs";

#[test]
fn a_second_clone_checks_and_writes_only_its_own_files() {
    let first_before = std::fs::read_to_string(workspace_root().join(GENERATED)).unwrap();
    let second = Copy::new("second-clone");
    second.edit_spec(|spec| {
        spec["components"]["schemas"]["CreateCheckoutSessionRequest"]["properties"]["quantity"]["maximum"] = 20.into();
    });

    let check = second.cargo(&["xtask", "codegen", "--check"]);
    assert!(!check.status.success(), "a changed spec must make --check fail\n{}", printed(&check));
    let stderr = String::from_utf8_lossy(&check.stderr);
    let stale = second.root.join(GENERATED);
    assert!(stderr.contains(&stale.display().to_string()), "the second clone's file is named\n{}", printed(&check));
    assert!(!stderr.contains(&workspace_root().join(GENERATED).display().to_string()), "{}", printed(&check));

    let write = second.cargo(&["xtask", "codegen"]);
    assert!(write.status.success(), "{}", printed(&write));
    assert!(second.read(GENERATED).contains("max = 20i64"), "the second clone's trait follows its spec");
    let first_after = std::fs::read_to_string(workspace_root().join(GENERATED)).unwrap();
    assert_eq!(first_before, first_after, "the first clone's files are untouched");

    let check_again = second.cargo(&["xtask", "codegen", "--check"]);
    assert!(check_again.status.success(), "{}", printed(&check_again));
}
