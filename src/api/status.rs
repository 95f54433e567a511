//! The one mapping from domain errors to gRPC statuses.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::{Error, Reason, StoreErrorKind};

/// `google.rpc.ErrorInfo.domain` of every naskah error.
pub const ERROR_DOMAIN: &str = "naskah.go.id";

/// The gRPC code of each reason. Exhaustive on purpose: a new reason does not
/// compile until it is given a code here.
pub fn code_of(reason: Reason) -> Code {
    match reason {
        Reason::InvalidArgument
        | Reason::InvalidPageToken
        | Reason::WeakPassword
        | Reason::RequestIdReused => Code::InvalidArgument,
        Reason::EtagMismatch | Reason::ConcurrentRetry => Code::Aborted,
        Reason::TokenMissing
        | Reason::TokenInvalid
        | Reason::TokenExpired
        | Reason::InvalidCredentials
        | Reason::AccountLocked
        | Reason::InvalidRefreshToken => Code::Unauthenticated,
        Reason::AccountDisabled
        | Reason::PasswordChangeRequired
        | Reason::RoleRequired
        | Reason::NotPositionHolder
        | Reason::CannotGrantRole => Code::PermissionDenied,
        Reason::UnitNotFound
        | Reason::PositionNotFound
        | Reason::UserNotFound
        | Reason::AssignmentNotFound
        | Reason::ParentUnitNotFound
        | Reason::SuperiorNotFound => Code::NotFound,
        Reason::UsernameTaken | Reason::UnitCodeTaken => Code::AlreadyExists,
        Reason::UnitCycle
        | Reason::PositionCycle
        | Reason::PositionOccupied
        | Reason::InvalidWindow
        | Reason::AssignmentEnded
        | Reason::UserLacksRole => Code::FailedPrecondition,
        Reason::RateLimited => Code::ResourceExhausted,
        Reason::WeakPassphrase | Reason::AlgorithmNotSupported => Code::InvalidArgument,
        Reason::NoSigningKey | Reason::CertificateNotFound => Code::NotFound,
        Reason::PeerNotFound | Reason::ConsignmentNotFound | Reason::DispatchNotFound => {
            Code::NotFound
        }
        Reason::PeerNotTrusted => Code::PermissionDenied,
        Reason::PeerUnreachable => Code::Unavailable,
        Reason::ExchangeNotConfigured => Code::FailedPrecondition,
        Reason::SignedStatementInvalid => Code::InvalidArgument,
        Reason::WrongPassphrase | Reason::NotCertificateOwner => Code::PermissionDenied,
        Reason::CertificateRevoked => Code::FailedPrecondition,
        Reason::LetterNotFound | Reason::ClassificationNotFound | Reason::AttachmentNotFound => {
            Code::NotFound
        }
        Reason::LetterNotEditable
        | Reason::InvalidState
        | Reason::RouteMissing
        | Reason::RecipientsMissing
        | Reason::LetterAlreadySigned
        | Reason::NotRecipient
        | Reason::NotSigned => Code::FailedPrecondition,
        Reason::RouteInvalid | Reason::AttachmentTooLarge | Reason::ChecksumMismatch => {
            Code::InvalidArgument
        }
        Reason::NotCurrentStep | Reason::NotDrafter | Reason::NotSecretary => {
            Code::PermissionDenied
        }
        Reason::NotASubordinate | Reason::NotReceived | Reason::NotADraft | Reason::AlreadyRead => {
            Code::FailedPrecondition
        }
        Reason::UnknownInstruction => Code::InvalidArgument,
        Reason::DispositionNotFound | Reason::CaseFileNotFound | Reason::HoldNotFound => {
            Code::NotFound
        }
        Reason::CaseFileClosed
        | Reason::AlreadyFiled
        | Reason::ClassificationMismatch
        | Reason::LegalHold
        | Reason::HoldReleased
        | Reason::NotDue
        | Reason::AlreadyApproved
        | Reason::NotApproved
        | Reason::AlreadyProposed
        | Reason::ContentDestroyed
        | Reason::NotExported => Code::FailedPrecondition,
        Reason::ProposalNotFound => Code::NotFound,
        Reason::NotAnApprover => Code::PermissionDenied,
        Reason::MalformedRequest => Code::InvalidArgument,
        Reason::Unavailable => Code::Unavailable,
        Reason::TransactionConflict => Code::Aborted,
    }
}

/// A status carrying `reason` in ErrorInfo.
pub fn rejected(reason: Reason, message: &str) -> Status {
    Status::with_error_details(
        code_of(reason),
        message,
        ErrorDetails::with_error_info(
            reason.as_str(),
            ERROR_DOMAIN,
            std::collections::HashMap::new(),
        ),
    )
}

/// How long a client should wait before retrying when the database is down.
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// UNAVAILABLE with reason `UNAVAILABLE` and a `google.rpc.RetryInfo` hint.
pub fn unavailable() -> Status {
    let mut details = ErrorDetails::with_error_info(
        Reason::Unavailable.as_str(),
        ERROR_DOMAIN,
        std::collections::HashMap::new(),
    );
    details.set_retry_info(Some(RETRY_AFTER));
    Status::with_error_details(
        Code::Unavailable,
        "the database cannot be reached now; retry later",
        details,
    )
}

/// Converts a domain error. Internal failures are logged with the request id
/// (by the caller's span) and returned without detail.
pub fn to_status(err: Error) -> Status {
    match err {
        Error::Rejected { reason, message } => rejected(reason, &message),
        Error::Invalid(violations) => {
            let mut details = ErrorDetails::with_error_info(
                Reason::InvalidArgument.as_str(),
                ERROR_DOMAIN,
                std::collections::HashMap::new(),
            );
            for v in &violations {
                details.add_bad_request_violation(v.field.clone(), v.description.clone());
            }
            let summary = violations
                .iter()
                .map(|v| format!("{} {}", v.field, v.description))
                .collect::<Vec<_>>()
                .join("; ");
            Status::with_error_details(
                Code::InvalidArgument,
                format!("invalid request: {summary}"),
                details,
            )
        }
        // Unreachable, or (SQLite) another process held the write lock for
        // longer than the begin waits: both pass.
        Error::Store(e)
            if matches!(
                e.kind(),
                StoreErrorKind::ConnectionLost | StoreErrorKind::Busy
            ) =>
        {
            tracing::warn!(error = %e, "database unavailable");
            unavailable()
        }
        Error::Store(e) if e.kind() == StoreErrorKind::Conflict => {
            tracing::info!(error = %e, "transaction conflict");
            rejected(
                Reason::TransactionConflict,
                "the change met a concurrent one and was not made; retry it",
            )
        }
        Error::Store(e) => {
            tracing::error!(error = %e, "storage failure");
            Status::internal("internal error")
        }
        Error::Internal(e) => {
            tracing::error!(error = %e, "internal failure");
            Status::internal("internal error")
        }
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        to_status(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StoreError;
    use crate::error::StoreErrorKind as ErrorKind;

    fn failed(kind: ErrorKind) -> Status {
        to_status(Error::Store(StoreError::Failed {
            kind,
            message: "x".into(),
        }))
    }

    fn reason_of(s: &Status) -> String {
        s.get_details_error_info()
            .map(|i| i.reason)
            .unwrap_or_default()
    }

    #[test]
    fn database_failures_answer_by_their_kind() {
        for kind in [ErrorKind::ConnectionLost, ErrorKind::Busy] {
            let s = failed(kind);
            assert_eq!(
                (s.code(), reason_of(&s).as_str()),
                (Code::Unavailable, "UNAVAILABLE")
            );
            assert!(
                s.get_details_retry_info()
                    .is_some_and(|r| r.retry_delay.is_some())
            );
        }
        let s = failed(ErrorKind::Conflict);
        assert_eq!(
            (s.code(), reason_of(&s).as_str()),
            (Code::Aborted, "TRANSACTION_CONFLICT")
        );
        for kind in [ErrorKind::Other, ErrorKind::UniqueViolation] {
            let s = failed(kind);
            assert_eq!(s.code(), Code::Internal);
            assert_eq!(s.message(), "internal error", "no detail leaks");
        }
    }
}
