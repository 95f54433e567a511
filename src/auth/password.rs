//! Password hashing with argon2id (OWASP's minimum: m=19 MiB, t=2, p=1).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

/// Hashes a password into a PHC string.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("argon2: {e}"))
}

/// Checks a password against a PHC string; false for a malformed hash.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same work as a real verification, for unknown users, so that
/// "no such user" and "wrong password" take about the same time.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("naskah-dummy-password").unwrap_or_default());
    let _ = verify(password, phc);
}

/// Checks the strength rules of a new password; `Err` says why it is weak.
pub fn check_strength(password: &str, username: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < 12 {
        return Err("must be at least 12 characters long");
    }
    if n > 256 {
        return Err("must be at most 256 characters long");
    }
    if password.eq_ignore_ascii_case(username) {
        return Err("must not be the username");
    }
    if password
        .chars()
        .all(|c| c == password.chars().next().unwrap_or(' '))
    {
        return Err("must not repeat one character");
    }
    Ok(())
}

/// A random one-time password of 20 characters from an unambiguous alphabet.
pub fn one_time() -> String {
    use rand_core::{OsRng, RngCore};
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not-a-phc-string"));
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_strength("short", "u").is_err());
        assert!(check_strength("aaaaaaaaaaaaaaa", "u").is_err());
        assert!(check_strength("administrator", "Administrator").is_err());
        assert!(check_strength("a good long passphrase", "u").is_ok());
    }

    #[test]
    fn one_time_passwords_are_random_and_strong() {
        let (a, b) = (one_time(), one_time());
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
        assert!(check_strength(&a, "x").is_ok());
    }
}
