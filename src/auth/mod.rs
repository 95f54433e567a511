//! Authentication: passwords (argon2id), access tokens (EdDSA JWT), refresh
//! tokens, and the authenticated [`Principal`] that handlers receive.

pub mod password;
pub mod tokens;

use crate::proto::Role;

/// The authenticated caller, put into request extensions by the auth layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub user_id: String,
    /// Agency id.
    pub agency_id: String,
    /// Username.
    pub username: String,
    /// Global roles.
    pub roles: Vec<Role>,
    /// True until the user changes their one-time password.
    pub must_change_password: bool,
}

impl Principal {
    /// True when the principal has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The request context every handler passes to the domain: who calls, from where,
/// under which request id.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    /// Request id (the client's `x-request-id` or a generated one).
    pub request_id: String,
    /// Client address.
    pub client_address: String,
    /// Full gRPC method, e.g. "/naskah.v1.AuditService/VerifyAuditLog".
    pub method: String,
}

/// Encodes roles as stored: names joined by commas.
pub fn roles_to_db(roles: &[Role]) -> String {
    let mut names: Vec<&str> = roles.iter().map(|r| r.as_str_name()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// Decodes stored roles, skipping unknown names.
pub fn roles_from_db(s: &str) -> Vec<Role> {
    s.split(',').filter_map(Role::from_str_name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_storage() {
        let roles = vec![Role::User, Role::Auditor, Role::User];
        let stored = roles_to_db(&roles);
        assert_eq!(stored, "ROLE_AUDITOR,ROLE_USER");
        assert_eq!(roles_from_db(&stored), vec![Role::Auditor, Role::User]);
        assert!(roles_from_db("").is_empty());
    }
}
