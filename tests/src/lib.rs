//! The `credits-tests` crate holds only the tests that need several crates at once (`tests/spec`,
//! `tests/served_spec`, `tests/workspace_copy`); this library is empty.
