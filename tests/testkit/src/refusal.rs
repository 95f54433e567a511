//! What a refusal of naskah's code called outside the contract says.

/// Why a change or a check outside the contract was refused: its reason code,
/// its message, and the field violations of a refusal as invalid.
#[derive(Debug)]
pub struct Refusal {
    pub reason: Option<&'static str>,
    pub message: String,
    violations: Option<Vec<String>>,
}

impl Refusal {
    /// Whether the change was refused as invalid.
    pub fn is_invalid(&self) -> bool {
        self.violations.is_some()
    }

    /// The descriptions of the field violations, joined by `; ` (a refusal
    /// as invalid is expected).
    pub fn violations(&self) -> String {
        match &self.violations {
            Some(v) => v.join("; "),
            None => panic!("expected invalid settings, got {}", self.message),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<naskah::error::Error> for Refusal {
    fn from(e: naskah::error::Error) -> Self {
        let violations = match &e {
            naskah::error::Error::Invalid(v) => {
                Some(v.iter().map(|x| x.description.clone()).collect())
            }
            _ => None,
        };
        Self {
            reason: e.reason().map(|r| r.as_str()),
            message: e.to_string(),
            violations,
        }
    }
}
