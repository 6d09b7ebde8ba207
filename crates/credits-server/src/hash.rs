//! The one hash the server uses: hex SHA-256, for what must be compared but not kept (API
//! tokens, rate-limit keys) and for fingerprints of requests (idempotency).

use sha2::{Digest, Sha256};

/// The hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_answer() {
        assert_eq!(super::sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
