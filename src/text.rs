//! The one text rule of every string a client sends (applied to every request
//! by `api::codec`, and to the cells of an imported CSV): no NUL, no control
//! characters except tab (and line breaks in prose), no bidirectional
//! controls, no Unicode line or paragraph separators. The same on both
//! databases: PostgreSQL refuses NUL, SQLite would store it.

/// Why a text value breaks the rule, if it does.
pub fn fault(value: &str, multiline: bool) -> Option<&'static str> {
    for c in value.chars() {
        if c == '\0' {
            return Some("must not contain a NUL character");
        }
        if c == '\t' || (multiline && matches!(c, '\n' | '\r')) {
            continue;
        }
        // Bidirectional embeddings, overrides and isolates make text display
        // otherwise than it reads (a number or a name shown reversed).
        if matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            return Some("must not contain bidirectional control characters");
        }
        if matches!(c, '\u{2028}' | '\u{2029}') {
            return Some(if multiline {
                "must use \\n for line breaks"
            } else {
                "must be one line (no line breaks)"
            });
        }
        if c.is_control() {
            return Some(if c == '\n' || c == '\r' {
                "must be one line (no line breaks)"
            } else {
                "must not contain control characters"
            });
        }
    }
    None
}
