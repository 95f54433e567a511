//! Official letter numbers from an agency's template.
//!
//! Tokens: `{security}` (B, T, R, SR), `{seq}`, `{unit}` (the signer's unit code),
//! `{position}` (the signer's position name), `{class}` (classification code),
//! `{type}` (letter type name), `{month}` (01–12), `{roman_month}` (I–XII) and
//! `{year}`. A nota dinas carries no security code: `{security}` and the one
//! separator next to it are dropped. Month and year are those of the signing
//! time in the agency's time zone (`calendar`; WIB unless the agency set another).

use crate::proto::{LetterType, SecurityLevel};

/// Numbering scope: which letters share one sequence per year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One sequence for the whole agency.
    Agency = 1,
    /// One per signer's unit.
    Unit = 2,
    /// One per signer's unit and letter type.
    UnitAndType = 3,
}

impl Scope {
    /// The scope of a stored code (agency-wide by default).
    pub fn from_code(code: i16) -> Self {
        match code {
            2 => Scope::Unit,
            3 => Scope::UnitAndType,
            _ => Scope::Agency,
        }
    }

    /// The counter key of a letter in this scope.
    pub fn key(self, unit_id: &str, letter_type: LetterType) -> String {
        match self {
            Scope::Agency => "agency".into(),
            Scope::Unit => format!("unit:{unit_id}"),
            Scope::UnitAndType => format!("unit:{unit_id}:type:{}", letter_type as i32),
        }
    }
}

/// The security code printed in numbers.
pub fn security_code(level: SecurityLevel) -> &'static str {
    match level {
        SecurityLevel::Biasa | SecurityLevel::Unspecified => "B",
        SecurityLevel::Terbatas => "T",
        SecurityLevel::Rahasia => "R",
        SecurityLevel::SangatRahasia => "SR",
    }
}

const ROMAN: [&str; 12] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

/// What a number is made of.
#[derive(Clone, Debug)]
pub struct Parts<'a> {
    pub letter_type: LetterType,
    pub security: SecurityLevel,
    pub seq: i64,
    pub unit_code: &'a str,
    pub position: &'a str,
    pub class: &'a str,
    pub year: i32,
    pub month: u32,
}

/// Known tokens, for validating templates.
pub const TOKENS: &[&str] = &[
    "security",
    "seq",
    "unit",
    "position",
    "class",
    "type",
    "month",
    "roman_month",
    "year",
];

/// Checks a template: balanced braces, known tokens, `{seq}` present.
pub fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    let mut has_seq = false;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or("a '{' is not closed")? + open;
        let token = &rest[open + 1..close];
        if !TOKENS.contains(&token) {
            return Err(format!("unknown token {{{token}}}"));
        }
        has_seq |= token == "seq";
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err("a '}' has no '{'".into());
    }
    if !has_seq {
        return Err("the template needs {seq}".into());
    }
    Ok(())
}

/// Renders a number.
pub fn render(template: &str, p: &Parts<'_>) -> String {
    let mut t = template.to_owned();
    if p.letter_type == LetterType::NotaDinas {
        for pattern in [
            "{security}-",
            "{security}/",
            "/{security}",
            "-{security}",
            "{security}",
        ] {
            if t.contains(pattern) {
                t = t.replacen(pattern, "", 1);
                break;
            }
        }
    }
    let month = p.month.clamp(1, 12);
    t.replace("{security}", security_code(p.security))
        .replace("{seq}", &p.seq.to_string())
        .replace("{unit}", p.unit_code)
        .replace("{position}", p.position)
        .replace("{class}", p.class)
        .replace(
            "{type}",
            p.letter_type
                .as_str_name()
                .trim_start_matches("LETTER_TYPE_"),
        )
        .replace("{roman_month}", ROMAN[(month - 1) as usize])
        .replace("{month}", &format!("{month:02}"))
        .replace("{year}", &p.year.to_string())
}

/// Sets an agency's number template and scope (the `naskah agency set-numbering`
/// admin task), audited like every change.
pub async fn configure(
    store: &crate::store::Store,
    agency_code: &str,
    template: &str,
    scope: Scope,
) -> crate::error::Result<()> {
    use crate::error::Error;
    check_template(template).map_err(|e| Error::invalid("template", e))?;
    let mut tx = store.begin_write().await?;
    let agency = crate::store::identity::agency_id_by_code(&tx, agency_code)
        .await?
        .ok_or_else(|| Error::invalid("agency", format!("no agency with code {agency_code}")))?;
    crate::store::setup::set_numbering(&tx, &agency, template, scope as i16, tx.now_us()).await?;
    let mut ev = crate::audit::NewEvent::success("system/agency-set-numbering", "agency", &agency);
    ev.agency_id = agency.clone();
    ev.summary = format!("number template set to {template:?}, scope {scope:?}");
    tx.audit(ev);
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(t: LetterType, s: SecurityLevel, seq: i64) -> Parts<'static> {
        Parts {
            letter_type: t,
            security: s,
            seq,
            unit_code: "IJ",
            position: "Kepala",
            class: "KP.07.6",
            year: 2020,
            month: 4,
        }
    }

    #[test]
    fn central_and_regional_styles_render_as_in_the_field() {
        let central = "{security}-{seq}/{unit}/{class}/{month}/{year}";
        assert_eq!(
            render(
                central,
                &parts(LetterType::SuratDinas, SecurityLevel::Rahasia, 99)
            ),
            "R-99/IJ/KP.07.6/04/2020"
        );
        assert_eq!(
            render(
                central,
                &parts(LetterType::NotaDinas, SecurityLevel::Rahasia, 99)
            ),
            "99/IJ/KP.07.6/04/2020"
        );
        let regional = "{class}/{seq}/{unit}";
        let p = Parts {
            class: "000.8.3.3",
            unit_code: "OR",
            ..parts(LetterType::SuratDinas, SecurityLevel::Biasa, 15)
        };
        assert_eq!(render(regional, &p), "000.8.3.3/15/OR");
        assert_eq!(
            render(
                "{seq}/{roman_month}/{year}",
                &parts(LetterType::Memo, SecurityLevel::Biasa, 3)
            ),
            "3/IV/2020"
        );
    }

    #[test]
    fn templates_are_checked() {
        assert!(check_template("{class}/{seq}/{unit}/{year}").is_ok());
        assert!(check_template("{class}/{unit}").is_err());
        assert!(check_template("{seq}/{nope}").is_err());
        assert!(check_template("{seq}/{year").is_err());
    }

    #[test]
    fn scopes_key_their_counters() {
        assert_eq!(Scope::from_code(2).key("u1", LetterType::Memo), "unit:u1");
        assert_eq!(Scope::from_code(1).key("u1", LetterType::Memo), "agency");
        assert_eq!(
            Scope::from_code(3).key("u1", LetterType::Memo),
            "unit:u1:type:8"
        );
    }
}
