//! The spec and the code generated from it agree: round trip, drift detection, and the corpus.

mod corpus;
mod drift;
mod helpers;
mod roundtrip;
