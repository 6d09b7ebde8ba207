//! Tests that work on a copy of the whole workspace, built into the same target directory as
//! this run (so only the workspace's own crates are rebuilt):
//!
//! - the spec drives the server's behaviour: bounds changed in the copy's spec, then
//!   `cargo xtask codegen`, change the copy's running server's answers with no hand-written edit;
//! - `cargo xtask` finds its workspace at run time: a second clone sharing the target directory
//!   checks and writes its own files, never the first clone's.
//!
//! cargo gives a package at another path the same artifacts when its name and version are the
//! same; the copy whose code differs (the regenerated server) therefore gets another version, so
//! that it never overwrites this workspace's artifacts. The tests run one at a time, and the
//! binaries at the target directory's top level are put back (a fresh `cargo build` of this
//! workspace) when they end.

mod copy;
mod spec_drives_the_server;
mod xtask_finds_its_workspace;
