//! The domain's one error type. Each refusal carries a stable [`Reason`] code
//! that clients may rely on; `api::status` maps it to a gRPC status.

pub use crate::store::StoreError;
/// The kind of a storage failure ([`StoreError::kind`]).
pub use crate::store::engine::ErrorKind as StoreErrorKind;

/// Stable reason codes, sent in `google.rpc.ErrorInfo.reason`. Never renamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A request field is invalid; details in `google.rpc.BadRequest`.
    InvalidArgument,
    /// A page token is malformed or belongs to other filters.
    InvalidPageToken,
    /// The etag sent is not the resource's current etag.
    EtagMismatch,
    /// No bearer token was sent.
    TokenMissing,
    /// The token is malformed, forged, of the wrong kind or signed with an unknown key.
    TokenInvalid,
    /// The token has expired.
    TokenExpired,
    /// Unknown user or wrong password (indistinguishable on purpose).
    InvalidCredentials,
    /// Too many failed logins; try again later.
    AccountLocked,
    /// The account is disabled.
    AccountDisabled,
    /// The user must change their password before anything else.
    PasswordChangeRequired,
    /// The refresh token is unknown, expired, spent or revoked.
    InvalidRefreshToken,
    /// The new password is too weak.
    WeakPassword,
    /// The caller's roles do not allow this method.
    RoleRequired,
    /// The caller does not hold the position named in the request.
    NotPositionHolder,
    /// Unit not found (or in another agency).
    UnitNotFound,
    /// Position not found (or in another agency).
    PositionNotFound,
    /// User not found (or in another agency).
    UserNotFound,
    /// Assignment not found (or in another agency).
    AssignmentNotFound,
    /// Parent unit not found.
    ParentUnitNotFound,
    /// Superior position not found.
    SuperiorNotFound,
    /// The username is taken.
    UsernameTaken,
    /// The unit code is taken in this agency.
    UnitCodeTaken,
    /// Moving the unit would make it its own ancestor.
    UnitCycle,
    /// Changing the superior would make the position its own superior.
    PositionCycle,
    /// The position already has a definitive holder in that window.
    PositionOccupied,
    /// The validity window ends before it starts, or is missing where required.
    InvalidWindow,
    /// The assignment has already ended.
    AssignmentEnded,
    /// The user lacks a role the operation needs (e.g. SECRETARY for SetSecretary).
    UserLacksRole,
    /// Too many requests from this client.
    RateLimited,
    /// The request_id was used before for a different request.
    RequestIdReused,
    /// A retry with the same request_id is running at the same time.
    ConcurrentRetry,
    /// Only a SYSTEM_ADMIN may grant SYSTEM_ADMIN.
    CannotGrantRole,
    /// The passphrase is too weak.
    WeakPassphrase,
    /// The key algorithm is not supported.
    AlgorithmNotSupported,
    /// The caller has no (live) signing key.
    NoSigningKey,
    /// No peer of that agency code in the agency's peer directory.
    PeerNotFound,
    /// The calling agency's certificate is not from a pinned peer CA, or does
    /// not name the agency it speaks for.
    PeerNotTrusted,
    /// The peer agency's exchange endpoint cannot be reached now.
    PeerUnreachable,
    /// The agency has no exchange endpoint configured.
    ExchangeNotConfigured,
    /// No consignment of that id from the calling agency.
    ConsignmentNotFound,
    /// No dispatch of that id in the agency.
    DispatchNotFound,
    /// A signed statement does not verify or does not say what it must.
    SignedStatementInvalid,
    /// The passphrase does not open the signing key.
    WrongPassphrase,
    /// The signing certificate is revoked.
    CertificateRevoked,
    /// The certificate is not known (or of another agency).
    CertificateNotFound,
    /// The caller may not revoke this certificate.
    NotCertificateOwner,
    /// No such letter visible to the caller.
    LetterNotFound,
    /// No such classification code in the agency's scheme.
    ClassificationNotFound,
    /// The letter cannot be edited in its state.
    LetterNotEditable,
    /// The letter is not in a state that allows this.
    InvalidState,
    /// The letter has no route yet.
    RouteMissing,
    /// The route is not valid.
    RouteInvalid,
    /// The letter has no primary recipient.
    RecipientsMissing,
    /// The caller does not hold the position of the current route step.
    NotCurrentStep,
    /// Only the drafting position may do this.
    NotDrafter,
    /// The letter is signed and cannot change.
    LetterAlreadySigned,
    /// The caller's position did not receive the letter.
    NotRecipient,
    /// The attachment exceeds the size limit.
    AttachmentTooLarge,
    /// The content does not match the announced SHA-256.
    ChecksumMismatch,
    /// No such attachment visible to the caller.
    AttachmentNotFound,
    /// The letter is not signed.
    NotSigned,
    /// A recipient is not below the disposing position.
    NotASubordinate,
    /// The disposing position did not receive the letter (or the disposition).
    NotReceived,
    /// An instruction code is not in the agency's list.
    UnknownInstruction,
    /// The caller is not secretary of that position.
    NotSecretary,
    /// The disposition is not a draft waiting for confirmation.
    NotADraft,
    /// A recipient has already read the disposition.
    AlreadyRead,
    /// No such disposition visible to the caller.
    DispositionNotFound,
    /// No such case file in the agency.
    CaseFileNotFound,
    /// The case file is closed.
    CaseFileClosed,
    /// The letter is already in a case file.
    AlreadyFiled,
    /// The letter's classification is not the case file's or below it.
    ClassificationMismatch,
    /// A legal hold blocks this.
    LegalHold,
    /// No such hold in the agency.
    HoldNotFound,
    /// The hold was already released.
    HoldReleased,
    /// A case file is not due for the proposed disposal.
    NotDue,
    /// No such disposal proposal in the agency.
    ProposalNotFound,
    /// The caller does not hold a position whose approval the proposal needs.
    NotAnApprover,
    /// That position (or the caller) already approved the proposal.
    AlreadyApproved,
    /// The proposal lacks approvals, or was already executed.
    NotApproved,
    /// A case file is already in another proposal that is not executed.
    AlreadyProposed,
    /// The letter's content was destroyed under an approved disposal.
    ContentDestroyed,
    /// A case file to transfer has no archival package yet.
    NotExported,
    /// The request is not a valid protobuf message of the method it was sent to.
    MalformedRequest,
    /// The database cannot be reached now; retry after the hinted delay.
    Unavailable,
    /// The change met a concurrent one (a serialization failure or a
    /// deadlock) and was not made; retrying it is safe.
    TransactionConflict,
}

impl Reason {
    /// The stable code string.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidArgument => "INVALID_ARGUMENT",
            Reason::InvalidPageToken => "INVALID_PAGE_TOKEN",
            Reason::EtagMismatch => "ETAG_MISMATCH",
            Reason::TokenMissing => "TOKEN_MISSING",
            Reason::TokenInvalid => "TOKEN_INVALID",
            Reason::TokenExpired => "TOKEN_EXPIRED",
            Reason::InvalidCredentials => "INVALID_CREDENTIALS",
            Reason::AccountLocked => "ACCOUNT_LOCKED",
            Reason::AccountDisabled => "ACCOUNT_DISABLED",
            Reason::PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
            Reason::InvalidRefreshToken => "INVALID_REFRESH_TOKEN",
            Reason::WeakPassword => "WEAK_PASSWORD",
            Reason::RoleRequired => "ROLE_REQUIRED",
            Reason::NotPositionHolder => "NOT_POSITION_HOLDER",
            Reason::UnitNotFound => "UNIT_NOT_FOUND",
            Reason::PositionNotFound => "POSITION_NOT_FOUND",
            Reason::UserNotFound => "USER_NOT_FOUND",
            Reason::AssignmentNotFound => "ASSIGNMENT_NOT_FOUND",
            Reason::ParentUnitNotFound => "PARENT_UNIT_NOT_FOUND",
            Reason::SuperiorNotFound => "SUPERIOR_NOT_FOUND",
            Reason::UsernameTaken => "USERNAME_TAKEN",
            Reason::UnitCodeTaken => "UNIT_CODE_TAKEN",
            Reason::UnitCycle => "UNIT_CYCLE",
            Reason::PositionCycle => "POSITION_CYCLE",
            Reason::PositionOccupied => "POSITION_OCCUPIED",
            Reason::InvalidWindow => "INVALID_WINDOW",
            Reason::AssignmentEnded => "ASSIGNMENT_ENDED",
            Reason::UserLacksRole => "USER_LACKS_ROLE",
            Reason::RateLimited => "RATE_LIMITED",
            Reason::RequestIdReused => "REQUEST_ID_REUSED",
            Reason::ConcurrentRetry => "CONCURRENT_RETRY",
            Reason::CannotGrantRole => "CANNOT_GRANT_ROLE",
            Reason::WeakPassphrase => "WEAK_PASSPHRASE",
            Reason::AlgorithmNotSupported => "ALGORITHM_NOT_SUPPORTED",
            Reason::NoSigningKey => "NO_SIGNING_KEY",
            Reason::PeerNotFound => "PEER_NOT_FOUND",
            Reason::PeerNotTrusted => "PEER_NOT_TRUSTED",
            Reason::PeerUnreachable => "PEER_UNREACHABLE",
            Reason::ExchangeNotConfigured => "EXCHANGE_NOT_CONFIGURED",
            Reason::ConsignmentNotFound => "CONSIGNMENT_NOT_FOUND",
            Reason::DispatchNotFound => "DISPATCH_NOT_FOUND",
            Reason::SignedStatementInvalid => "SIGNED_STATEMENT_INVALID",
            Reason::WrongPassphrase => "WRONG_PASSPHRASE",
            Reason::CertificateRevoked => "CERTIFICATE_REVOKED",
            Reason::CertificateNotFound => "CERTIFICATE_NOT_FOUND",
            Reason::NotCertificateOwner => "NOT_CERTIFICATE_OWNER",
            Reason::LetterNotFound => "LETTER_NOT_FOUND",
            Reason::ClassificationNotFound => "CLASSIFICATION_NOT_FOUND",
            Reason::LetterNotEditable => "LETTER_NOT_EDITABLE",
            Reason::InvalidState => "INVALID_STATE",
            Reason::RouteMissing => "ROUTE_MISSING",
            Reason::RouteInvalid => "ROUTE_INVALID",
            Reason::RecipientsMissing => "RECIPIENTS_MISSING",
            Reason::NotCurrentStep => "NOT_CURRENT_STEP",
            Reason::NotDrafter => "NOT_DRAFTER",
            Reason::LetterAlreadySigned => "LETTER_ALREADY_SIGNED",
            Reason::NotRecipient => "NOT_RECIPIENT",
            Reason::AttachmentTooLarge => "ATTACHMENT_TOO_LARGE",
            Reason::ChecksumMismatch => "CHECKSUM_MISMATCH",
            Reason::AttachmentNotFound => "ATTACHMENT_NOT_FOUND",
            Reason::NotSigned => "NOT_SIGNED",
            Reason::NotASubordinate => "NOT_A_SUBORDINATE",
            Reason::NotReceived => "NOT_RECEIVED",
            Reason::UnknownInstruction => "UNKNOWN_INSTRUCTION",
            Reason::NotSecretary => "NOT_SECRETARY",
            Reason::NotADraft => "NOT_A_DRAFT",
            Reason::AlreadyRead => "ALREADY_READ",
            Reason::DispositionNotFound => "DISPOSITION_NOT_FOUND",
            Reason::CaseFileNotFound => "CASE_FILE_NOT_FOUND",
            Reason::CaseFileClosed => "CASE_FILE_CLOSED",
            Reason::AlreadyFiled => "ALREADY_FILED",
            Reason::ClassificationMismatch => "CLASSIFICATION_MISMATCH",
            Reason::LegalHold => "LEGAL_HOLD",
            Reason::HoldNotFound => "HOLD_NOT_FOUND",
            Reason::HoldReleased => "HOLD_RELEASED",
            Reason::NotDue => "NOT_DUE",
            Reason::ProposalNotFound => "PROPOSAL_NOT_FOUND",
            Reason::NotAnApprover => "NOT_AN_APPROVER",
            Reason::AlreadyApproved => "ALREADY_APPROVED",
            Reason::NotApproved => "NOT_APPROVED",
            Reason::AlreadyProposed => "ALREADY_PROPOSED",
            Reason::ContentDestroyed => "CONTENT_DESTROYED",
            Reason::NotExported => "NOT_EXPORTED",
            Reason::MalformedRequest => "MALFORMED_REQUEST",
            Reason::Unavailable => "UNAVAILABLE",
            Reason::TransactionConflict => "TRANSACTION_CONFLICT",
        }
    }
}

/// A field of a request that failed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field, e.g. "unit.code".
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

/// Errors of the domain layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request was refused for a stable reason.
    #[error("{message}")]
    Rejected {
        /// Stable reason code.
        reason: Reason,
        /// Human-readable explanation, safe to show the caller.
        message: String,
    },
    /// One or more request fields are invalid.
    #[error("invalid request: {} field violation(s)", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// Storage failed; never shown to the caller.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Any other internal failure; never shown to the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A refusal with a reason and message.
    pub fn rejected(reason: Reason, message: impl Into<String>) -> Self {
        Error::Rejected {
            reason,
            message: message.into(),
        }
    }

    /// A single invalid field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }])
    }

    /// The stable reason of this error, if it is a refusal or invalid input.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Error::Rejected { reason, .. } => Some(*reason),
            Error::Invalid(_) => Some(Reason::InvalidArgument),
            Error::Store(_) | Error::Internal(_) => None,
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::Store(StoreError::from(e))
    }
}

/// Result of the domain layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collects field violations while validating a request.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation.
    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.to_owned(),
            description: description.into(),
        });
    }

    /// Checks that `value` has between `min` and `max` characters.
    pub fn len(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let n = value.chars().count();
        if n < min || n > max {
            if min > 0 && n == 0 {
                self.add(field, "is required");
            } else {
                self.add(field, format!("must be {min} to {max} characters long"));
            }
        }
    }

    /// Checks that `value` is a UUID (when `required`, or when not empty).
    pub fn uuid(&mut self, field: &str, value: &str, required: bool) {
        if value.is_empty() {
            if required {
                self.add(field, "is required");
            }
        } else if uuid::Uuid::parse_str(value).is_err() {
            self.add(field, "must be a UUID");
        }
    }

    /// `Ok` when nothing was recorded, else the collected error.
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}
