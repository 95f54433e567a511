//! Opaque keyset page tokens. A token carries the last key of the page and a
//! fingerprint of the request's filters, so a token is refused with other filters.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::{Error, Reason, Result};

/// Clamps a requested page size: 0 gives `default`, above `max` gives `max`,
/// negative is invalid.
pub fn page_size(requested: i32, default: u64, max: u64) -> Result<u64> {
    match requested {
        n if n < 0 => Err(Error::invalid("page_size", "must not be negative")),
        0 => Ok(default),
        n => Ok((n as u64).min(max)),
    }
}

/// A fingerprint of the filters of a list request.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u32).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

/// Encodes a token for the key after which the next page starts.
pub fn encode(fingerprint: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1|{fingerprint}|{key}"))
}

/// Decodes a token; `Ok(None)` for an empty token (the first page).
pub fn decode(token: &str, fingerprint: &str) -> Result<Option<String>> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || {
        Error::rejected(
            Reason::InvalidPageToken,
            "page_token is malformed or belongs to other filters",
        )
    };
    if token.len() > 512 {
        return Err(bad());
    }
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(fp), Some(key)) if fp == fingerprint => Ok(Some(key.to_owned())),
        _ => Err(bad()),
    }
}

/// Encodes a (time, id) keyset key.
pub fn encode_time_key(fingerprint: &str, t: i64, id: &str) -> String {
    encode(fingerprint, &format!("{t}:{id}"))
}

/// Decodes a (time, id) keyset key; `Ok(None)` on the first page.
pub fn decode_time_key(token: &str, fingerprint: &str) -> Result<Option<(i64, String)>> {
    let Some(key) = decode(token, fingerprint)? else {
        return Ok(None);
    };
    let bad = || Error::rejected(Reason::InvalidPageToken, "page_token is malformed");
    let (t, id) = key.split_once(':').ok_or_else(bad)?;
    Ok(Some((t.parse::<i64>().map_err(|_| bad())?, id.to_owned())))
}

/// Cuts a page fetched with `limit + 1` rows down to `limit` and returns the
/// token of the next page (empty when the extra row was not there).
pub fn next_token<T>(rows: &mut Vec<T>, limit: u64, key: impl Fn(&T) -> String) -> String {
    if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(key).unwrap_or_default()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_filters() {
        let fp = fingerprint(&["letter", ""]);
        let t = encode(&fp, "12345");
        assert_eq!(decode(&t, &fp).expect("valid"), Some("12345".into()));
        assert_eq!(decode("", &fp).expect("first page"), None);
        let other = fingerprint(&["user", ""]);
        assert_eq!(
            decode(&t, &other).unwrap_err().reason(),
            Some(Reason::InvalidPageToken)
        );
        assert_eq!(
            decode("!!!", &fp).unwrap_err().reason(),
            Some(Reason::InvalidPageToken)
        );
    }

    #[test]
    fn fingerprints_respect_field_boundaries() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }

    #[test]
    fn page_sizes_are_clamped() {
        assert_eq!(page_size(0, 50, 500).expect("ok"), 50);
        assert_eq!(page_size(10_000, 50, 500).expect("ok"), 500);
        assert_eq!(page_size(7, 50, 500).expect("ok"), 7);
        assert!(page_size(-1, 50, 500).is_err());
    }
}

#[cfg(test)]
mod time_key_tests {
    use super::*;

    #[test]
    fn time_keys_round_trip_and_reject_garbage() {
        let fp = fingerprint(&["x"]);
        let t = encode_time_key(&fp, -5, "abc");
        assert_eq!(
            decode_time_key(&t, &fp).expect("ok"),
            Some((-5, "abc".into()))
        );
        assert!(decode_time_key(&encode(&fp, "nocolon"), &fp).is_err());
        assert!(decode_time_key(&encode(&fp, "x:abc"), &fp).is_err());
        assert_eq!(decode_time_key("", &fp).expect("ok"), None);
    }
}
