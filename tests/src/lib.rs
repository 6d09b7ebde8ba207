//! The `credits-tests` crate holds only tests (`tests/spec`, `tests/server`); this library is empty.
