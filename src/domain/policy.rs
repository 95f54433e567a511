//! The one policy table: every RPC of the contract (plus the standard health and
//! reflection services) with the callers it admits. A method that is not in the
//! table is refused. Rules here are the gate by role; what a caller may do to one
//! letter (drafter, reviewer, recipient…) is checked by the domain on top.

use crate::proto::Role;

/// Who may call a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, without a token.
    Public,
    /// Any authenticated user.
    Authenticated,
    /// Authenticated users with at least one of these roles.
    AnyOf(&'static [Role]),
    /// Other naskah agencies, on the exchange port only (mutual TLS; no
    /// user): the client port answers UNIMPLEMENTED.
    Peer,
}

const ADMINS: &[Role] = &[Role::AgencyAdmin, Role::SystemAdmin];
const RECORDS: &[Role] = &[Role::RecordsOfficer];
const REGISTRARS: &[Role] = &[Role::Registrar];
const PEER_READERS: &[Role] = &[Role::AgencyAdmin, Role::SystemAdmin, Role::Registrar];

/// The table, keyed by full gRPC method path.
pub const POLICY: &[(&str, Rule)] = &[
    // Standard services.
    ("/grpc.health.v1.Health/Check", Rule::Public),
    ("/grpc.health.v1.Health/Watch", Rule::Public),
    ("/grpc.health.v1.Health/List", Rule::Public),
    (
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        Rule::Public,
    ),
    (
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        Rule::Public,
    ),
    // AuthService.
    ("/naskah.v1.AuthService/Login", Rule::Public),
    ("/naskah.v1.AuthService/RefreshToken", Rule::Public),
    ("/naskah.v1.AuthService/Logout", Rule::Authenticated),
    ("/naskah.v1.AuthService/ChangePassword", Rule::Authenticated),
    ("/naskah.v1.AuthService/WhoAmI", Rule::Authenticated),
    // OrgService: reads for every user of the agency, writes for its admins.
    ("/naskah.v1.OrgService/CreateUnit", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/UpdateUnit", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/GetUnit", Rule::Authenticated),
    ("/naskah.v1.OrgService/ListUnits", Rule::Authenticated),
    ("/naskah.v1.OrgService/CreatePosition", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/UpdatePosition", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/ListPositions", Rule::Authenticated),
    ("/naskah.v1.OrgService/AbolishPosition", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/CreateUser", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/UpdateUser", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/ListUsers", Rule::Authenticated),
    ("/naskah.v1.OrgService/DisableUser", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/ResetPassword", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/UnlockUser", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/AssignPosition", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/EndAssignment", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/ListAssignments", Rule::Authenticated),
    ("/naskah.v1.OrgService/SetSecretary", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.OrgService/GetOrgChart", Rule::Authenticated),
    // LetterService: relations to the letter are checked by the domain.
    ("/naskah.v1.LetterService/CreateDraft", Rule::Authenticated),
    ("/naskah.v1.LetterService/GetLetter", Rule::Authenticated),
    ("/naskah.v1.LetterService/UpdateDraft", Rule::Authenticated),
    ("/naskah.v1.LetterService/DeleteDraft", Rule::Authenticated),
    ("/naskah.v1.LetterService/ListLetters", Rule::Authenticated),
    ("/naskah.v1.LetterService/ListVersions", Rule::Authenticated),
    ("/naskah.v1.LetterService/SetRoute", Rule::Authenticated),
    ("/naskah.v1.LetterService/SubmitLetter", Rule::Authenticated),
    (
        "/naskah.v1.LetterService/ApproveLetter",
        Rule::Authenticated,
    ),
    ("/naskah.v1.LetterService/ReturnLetter", Rule::Authenticated),
    ("/naskah.v1.LetterService/AddComment", Rule::Authenticated),
    ("/naskah.v1.LetterService/ListComments", Rule::Authenticated),
    ("/naskah.v1.LetterService/SignLetter", Rule::Authenticated),
    (
        "/naskah.v1.LetterService/WithdrawLetter",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.LetterService/RegisterIncomingLetter",
        Rule::AnyOf(&[Role::Registrar]),
    ),
    ("/naskah.v1.LetterService/MarkRead", Rule::Authenticated),
    (
        "/naskah.v1.LetterService/UploadAttachment",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.LetterService/DownloadAttachment",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.LetterService/GetSignedDocument",
        Rule::Authenticated,
    ),
    ("/naskah.v1.LetterService/WatchInbox", Rule::Authenticated),
    // DispositionService.
    (
        "/naskah.v1.DispositionService/CreateDisposition",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.DispositionService/DraftDisposition",
        Rule::AnyOf(&[Role::Secretary]),
    ),
    (
        "/naskah.v1.DispositionService/ConfirmDisposition",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.DispositionService/CancelDisposition",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.DispositionService/MarkDispositionRead",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.DispositionService/RespondToDisposition",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.DispositionService/ListDispositions",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.DispositionService/GetDispositionTree",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.DispositionService/ListInstructions",
        Rule::Authenticated,
    ),
    // SignatureService.
    (
        "/naskah.v1.SignatureService/EnrollSigningKey",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.SignatureService/GetMyCertificate",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.SignatureService/RevokeCertificate",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.SignatureService/GetAgencyCertificate",
        Rule::Authenticated,
    ),
    // PeerService: the directory for administrators, positions of peers for
    // anyone addressing a letter, dispatches for registrars.
    ("/naskah.v1.PeerService/GetPeerCard", Rule::AnyOf(ADMINS)),
    ("/naskah.v1.PeerService/AddPeer", Rule::AnyOf(ADMINS)),
    (
        "/naskah.v1.PeerService/ListPeers",
        Rule::AnyOf(PEER_READERS),
    ),
    ("/naskah.v1.PeerService/RemovePeer", Rule::AnyOf(ADMINS)),
    (
        "/naskah.v1.PeerService/ListPeerPositions",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.PeerService/ListDispatches",
        Rule::AnyOf(REGISTRARS),
    ),
    (
        "/naskah.v1.PeerService/RetryDispatch",
        Rule::AnyOf(REGISTRARS),
    ),
    (
        "/naskah.v1.PeerService/CancelDispatch",
        Rule::AnyOf(REGISTRARS),
    ),
    (
        "/naskah.v1.PeerService/ListAwaitingConsignments",
        Rule::AnyOf(REGISTRARS),
    ),
    (
        "/naskah.v1.PeerService/AcceptConsignment",
        Rule::AnyOf(REGISTRARS),
    ),
    (
        "/naskah.v1.PeerService/RefuseConsignment",
        Rule::AnyOf(REGISTRARS),
    ),
    // ExchangeService: served on the exchange port to peer agencies only.
    ("/naskah.v1.ExchangeService/GetDirectory", Rule::Peer),
    ("/naskah.v1.ExchangeService/DeliverConsignment", Rule::Peer),
    ("/naskah.v1.ExchangeService/ReportOutcome", Rule::Peer),
    ("/naskah.v1.ExchangeService/GetOutcome", Rule::Peer),
    ("/naskah.v1.ExchangeService/ListOutcomes", Rule::Peer),
    // VerificationService: public, rate-limited.
    ("/naskah.v1.VerificationService/VerifyLetter", Rule::Public),
    (
        "/naskah.v1.VerificationService/VerifySignature",
        Rule::Public,
    ),
    // RecordsService.
    (
        "/naskah.v1.RecordsService/ImportClassifications",
        Rule::AnyOf(RECORDS),
    ),
    (
        "/naskah.v1.RecordsService/ListClassifications",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.RecordsService/CreateCaseFile",
        Rule::AnyOf(RECORDS),
    ),
    (
        "/naskah.v1.RecordsService/CloseCaseFile",
        Rule::AnyOf(RECORDS),
    ),
    ("/naskah.v1.RecordsService/FileLetter", Rule::AnyOf(RECORDS)),
    (
        "/naskah.v1.RecordsService/ListCaseFiles",
        Rule::AnyOf(RECORDS),
    ),
    (
        "/naskah.v1.RecordsService/GetRetention",
        Rule::AnyOf(RECORDS),
    ),
    ("/naskah.v1.RecordsService/PlaceHold", Rule::AnyOf(RECORDS)),
    (
        "/naskah.v1.RecordsService/ReleaseHold",
        Rule::AnyOf(RECORDS),
    ),
    ("/naskah.v1.RecordsService/ListDue", Rule::AnyOf(RECORDS)),
    (
        "/naskah.v1.RecordsService/ProposeDisposal",
        Rule::AnyOf(RECORDS),
    ),
    // Approvers are the configured positions' holders, checked by the domain.
    (
        "/naskah.v1.RecordsService/ApproveDisposal",
        Rule::Authenticated,
    ),
    (
        "/naskah.v1.RecordsService/ExecuteDisposal",
        Rule::AnyOf(RECORDS),
    ),
    (
        "/naskah.v1.RecordsService/ExportCaseFile",
        Rule::AnyOf(RECORDS),
    ),
    // AuditService.
    (
        "/naskah.v1.AuditService/ListAuditEvents",
        Rule::AnyOf(&[Role::Auditor]),
    ),
    (
        "/naskah.v1.AuditService/VerifyAuditLog",
        Rule::AnyOf(&[Role::Auditor, Role::SystemAdmin]),
    ),
];

/// Methods a user who must change their password may still call.
pub const BEFORE_PASSWORD_CHANGE: &[&str] = &[
    "/naskah.v1.AuthService/ChangePassword",
    "/naskah.v1.AuthService/WhoAmI",
    "/naskah.v1.AuthService/Logout",
];

/// The rule of a method; `None` for a method that is not part of the contract.
pub fn rule(method: &str) -> Option<Rule> {
    POLICY.iter().find(|(m, _)| *m == method).map(|(_, r)| *r)
}

/// True when a user with `roles` passes `rule`.
pub fn admits(rule: Rule, roles: &[Role]) -> bool {
    match rule {
        Rule::Public | Rule::Authenticated => true,
        Rule::AnyOf(allowed) => allowed.iter().any(|r| roles.contains(r)),
        Rule::Peer => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_method_is_listed_twice() {
        let mut names: Vec<&str> = POLICY.iter().map(|(m, _)| *m).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn unknown_methods_have_no_rule() {
        assert_eq!(rule("/naskah.v1.LetterService/Nope"), None);
        assert_eq!(
            rule("/naskah.v1.AuditService/ListAuditEvents"),
            Some(Rule::AnyOf(&[Role::Auditor]))
        );
    }

    #[test]
    fn roles_are_matched_by_any_of() {
        assert!(admits(
            Rule::AnyOf(ADMINS),
            &[Role::User, Role::AgencyAdmin]
        ));
        assert!(!admits(Rule::AnyOf(ADMINS), &[Role::User, Role::Auditor]));
        assert!(admits(Rule::Authenticated, &[]));
    }
}
