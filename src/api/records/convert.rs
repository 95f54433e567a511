//! RecordsService requests → the domain's inputs. Each conversion
//! destructures its request whole and validates it with `Violations`.

use crate::api::letters::etag_rule;
use crate::api::mutate::Mutation;
use crate::clock::from_timestamp;
use crate::error::{Error, Violations};
use crate::proto::{self as pb, CaseFileState, DueKind, FinalDisposition};

// ---- typed inputs ----

/// ImportClassifications.
#[derive(Clone, Debug)]
pub struct Import {
    pub csv: String,
    pub dry_run: bool,
}

/// ListClassifications: a page of the scheme under a code (empty: all).
#[derive(Clone, Debug)]
pub struct ClassificationPage {
    pub root_code: String,
    pub page_size: i32,
    pub page_token: String,
}

/// CreateCaseFile.
#[derive(Clone, Debug)]
pub struct NewCaseFile {
    pub classification_code: String,
    pub title: String,
    pub unit_id: String,
    pub description: String,
}

/// CloseCaseFile: the case file at the version its etag names.
#[derive(Clone, Debug)]
pub struct CaseFileAt {
    pub case_file_id: String,
    pub etag: String,
}

/// FileLetter: a letter filed in a case file.
#[derive(Clone, Debug)]
pub struct Filing {
    pub case_file_id: String,
    pub letter_id: String,
}

/// ListCaseFiles.
#[derive(Clone, Debug)]
pub struct CaseFileQuery {
    pub unit_id: String,
    pub classification_code: String,
    pub states: Vec<i16>,
    pub page_size: i32,
    pub page_token: String,
}

/// A case file named by id. GetRetention.
#[derive(Clone, Debug)]
pub struct CaseFileId(pub String);

/// PlaceHold: a hold on a case file or on a letter (exactly one is set).
#[derive(Clone, Debug)]
pub struct NewHold {
    pub case_file_id: String,
    pub letter_id: String,
    pub reason: String,
    pub authority: String,
}

/// A hold named by id. ReleaseHold.
#[derive(Clone, Debug)]
pub struct HoldId(pub String);

/// ListDue: the case files due for a final disposition as of a time
/// (`None`: now).
#[derive(Clone, Debug)]
pub struct DueQuery {
    pub disposition: FinalDisposition,
    pub as_of_us: Option<i64>,
    pub page_size: i32,
    pub page_token: String,
}

/// ProposeDisposal.
#[derive(Clone, Debug)]
pub struct Proposal {
    /// DISPOSAL or TRANSFER.
    pub kind: DueKind,
    pub case_file_ids: Vec<String>,
}

/// ApproveDisposal: the proposal at a version, approved as a position.
#[derive(Clone, Debug)]
pub struct Approval {
    pub proposal_id: String,
    pub position_id: String,
    pub etag: String,
}

/// ExecuteDisposal: the proposal at a version, and the passphrase that signs
/// the berita acara of a destruction (empty for a transfer).
#[derive(Clone, Debug)]
pub struct Execution {
    pub proposal_id: String,
    pub etag: String,
    pub passphrase: String,
}

/// ExportCaseFile: the case file and the reason its secret letters are read.
#[derive(Clone, Debug)]
pub struct Export {
    pub case_file_id: String,
    pub access_reason: String,
}

// ---- conversions: the scheme and case files ----

impl TryFrom<&pb::ImportClassificationsRequest> for Mutation<Import> {
    type Error = Error;

    fn try_from(r: &pb::ImportClassificationsRequest) -> Result<Self, Error> {
        let pb::ImportClassificationsRequest {
            csv,
            dry_run,
            request_id,
        } = r;
        let mut v = Violations::new();
        if csv.is_empty() || csv.len() > 4 * 1024 * 1024 {
            v.add("csv", "must be 1 byte to 4 MiB");
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Import {
                csv: csv.clone(),
                dry_run: *dry_run,
            },
        })
    }
}

impl TryFrom<pb::ListClassificationsRequest> for ClassificationPage {
    type Error = Error;

    fn try_from(r: pb::ListClassificationsRequest) -> Result<Self, Error> {
        let pb::ListClassificationsRequest {
            root_code,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        v.len("root_code", &root_code, 0, 64);
        v.finish()?;
        Ok(ClassificationPage {
            root_code,
            page_size,
            page_token,
        })
    }
}

impl TryFrom<&pb::CreateCaseFileRequest> for Mutation<NewCaseFile> {
    type Error = Error;

    fn try_from(r: &pb::CreateCaseFileRequest) -> Result<Self, Error> {
        let pb::CreateCaseFileRequest {
            classification_code,
            title,
            unit_id,
            description,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.len("classification_code", classification_code, 1, 64);
        v.len("title", title, 1, 500);
        v.uuid("unit_id", unit_id, true);
        v.len("description", description, 0, 4000);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewCaseFile {
                classification_code: classification_code.clone(),
                title: title.clone(),
                unit_id: unit_id.clone(),
                description: description.clone(),
            },
        })
    }
}

impl TryFrom<&pb::CloseCaseFileRequest> for Mutation<CaseFileAt> {
    type Error = Error;

    fn try_from(r: &pb::CloseCaseFileRequest) -> Result<Self, Error> {
        let pb::CloseCaseFileRequest {
            case_file_id,
            etag,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("case_file_id", case_file_id, true);
        v.len("etag", etag, 1, 64);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: CaseFileAt {
                case_file_id: case_file_id.clone(),
                etag: etag.clone(),
            },
        })
    }
}

impl TryFrom<&pb::FileLetterRequest> for Mutation<Filing> {
    type Error = Error;

    fn try_from(r: &pb::FileLetterRequest) -> Result<Self, Error> {
        let pb::FileLetterRequest {
            case_file_id,
            letter_id,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("case_file_id", case_file_id, true);
        v.uuid("letter_id", letter_id, true);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Filing {
                case_file_id: case_file_id.clone(),
                letter_id: letter_id.clone(),
            },
        })
    }
}

impl TryFrom<pb::ListCaseFilesRequest> for CaseFileQuery {
    type Error = Error;

    fn try_from(r: pb::ListCaseFilesRequest) -> Result<Self, Error> {
        let pb::ListCaseFilesRequest {
            unit_id,
            classification_code,
            states,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        v.uuid("unit_id", &unit_id, false);
        v.len("classification_code", &classification_code, 0, 64);
        for s in &states {
            if !matches!(CaseFileState::try_from(*s), Ok(x) if x != CaseFileState::Unspecified) {
                v.add("states", "must be known states");
            }
        }
        v.finish()?;
        Ok(CaseFileQuery {
            unit_id,
            classification_code,
            states: states.iter().map(|s| *s as i16).collect(),
            page_size,
            page_token,
        })
    }
}

impl TryFrom<pb::GetRetentionRequest> for CaseFileId {
    type Error = Error;

    fn try_from(r: pb::GetRetentionRequest) -> Result<Self, Error> {
        let pb::GetRetentionRequest { case_file_id } = r;
        let mut v = Violations::new();
        v.uuid("case_file_id", &case_file_id, true);
        v.finish()?;
        Ok(CaseFileId(case_file_id))
    }
}

// ---- conversions: holds ----

impl TryFrom<&pb::PlaceHoldRequest> for Mutation<NewHold> {
    type Error = Error;

    fn try_from(r: &pb::PlaceHoldRequest) -> Result<Self, Error> {
        let pb::PlaceHoldRequest {
            case_file_id,
            letter_id,
            reason,
            authority,
            request_id,
        } = r;
        let mut v = Violations::new();
        if case_file_id.is_empty() == letter_id.is_empty() {
            v.add(
                "case_file_id",
                "set exactly one of case_file_id and letter_id",
            );
        }
        v.uuid("case_file_id", case_file_id, false);
        v.uuid("letter_id", letter_id, false);
        v.len("reason", reason, 1, 1000);
        v.len("authority", authority, 1, 500);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewHold {
                case_file_id: case_file_id.clone(),
                letter_id: letter_id.clone(),
                reason: reason.clone(),
                authority: authority.clone(),
            },
        })
    }
}

impl TryFrom<&pb::ReleaseHoldRequest> for Mutation<HoldId> {
    type Error = Error;

    fn try_from(r: &pb::ReleaseHoldRequest) -> Result<Self, Error> {
        let pb::ReleaseHoldRequest {
            hold_id,
            reason,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("hold_id", hold_id, true);
        // Validated only: the domain keeps no reason for a release.
        v.len("reason", reason, 0, 1000);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: HoldId(hold_id.clone()),
        })
    }
}

// ---- conversions: disposal and export ----

impl TryFrom<pb::ListDueRequest> for DueQuery {
    type Error = Error;

    fn try_from(r: pb::ListDueRequest) -> Result<Self, Error> {
        let pb::ListDueRequest {
            kind,
            as_of,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        let disposition = match DueKind::try_from(kind) {
            Ok(DueKind::Transfer) => FinalDisposition::Permanen,
            Ok(DueKind::Disposal) => FinalDisposition::Musnah,
            Ok(DueKind::Reappraisal) => FinalDisposition::DinilaiKembali,
            _ => {
                v.add("kind", "must be TRANSFER, DISPOSAL or REAPPRAISAL");
                FinalDisposition::Unspecified
            }
        };
        let as_of = as_of.as_ref().map(from_timestamp);
        if as_of == Some(None) {
            v.add("as_of", "is out of range");
        }
        v.finish()?;
        Ok(DueQuery {
            disposition,
            as_of_us: as_of.flatten(),
            page_size,
            page_token,
        })
    }
}

impl TryFrom<&pb::ProposeDisposalRequest> for Mutation<Proposal> {
    type Error = Error;

    fn try_from(r: &pb::ProposeDisposalRequest) -> Result<Self, Error> {
        let pb::ProposeDisposalRequest {
            kind,
            case_file_ids,
            request_id,
        } = r;
        let mut v = Violations::new();
        let kind = match DueKind::try_from(*kind) {
            Ok(k @ (DueKind::Disposal | DueKind::Transfer)) => k,
            _ => {
                v.add(
                    "kind",
                    "must be DUE_KIND_DISPOSAL or DUE_KIND_TRANSFER (re-appraisal is not a disposal)",
                );
                DueKind::Unspecified
            }
        };
        if case_file_ids.is_empty() || case_file_ids.len() > 1000 {
            v.add("case_file_ids", "must hold 1 to 1000 ids");
        }
        for (i, id) in case_file_ids.iter().enumerate() {
            v.uuid(&format!("case_file_ids[{i}]"), id, true);
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Proposal {
                kind,
                case_file_ids: case_file_ids.clone(),
            },
        })
    }
}

impl TryFrom<&pb::ApproveDisposalRequest> for Mutation<Approval> {
    type Error = Error;

    fn try_from(r: &pb::ApproveDisposalRequest) -> Result<Self, Error> {
        let pb::ApproveDisposalRequest {
            proposal_id,
            position_id,
            etag,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("proposal_id", proposal_id, true);
        v.uuid("position_id", position_id, true);
        etag_rule(&mut v, etag);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Approval {
                proposal_id: proposal_id.clone(),
                position_id: position_id.clone(),
                etag: etag.clone(),
            },
        })
    }
}

impl TryFrom<&pb::ExecuteDisposalRequest> for Mutation<Execution> {
    type Error = Error;

    fn try_from(r: &pb::ExecuteDisposalRequest) -> Result<Self, Error> {
        let pb::ExecuteDisposalRequest {
            proposal_id,
            etag,
            passphrase,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("proposal_id", proposal_id, true);
        etag_rule(&mut v, etag);
        v.len("passphrase", passphrase, 0, 1024);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Execution {
                proposal_id: proposal_id.clone(),
                etag: etag.clone(),
                passphrase: passphrase.clone(),
            },
        })
    }
}

impl TryFrom<pb::ExportCaseFileRequest> for Export {
    type Error = Error;

    fn try_from(r: pb::ExportCaseFileRequest) -> Result<Self, Error> {
        let pb::ExportCaseFileRequest {
            case_file_id,
            access_reason,
        } = r;
        let mut v = Violations::new();
        v.uuid("case_file_id", &case_file_id, true);
        v.len("access_reason", &access_reason, 0, 1000);
        v.finish()?;
        Ok(Export {
            case_file_id,
            access_reason,
        })
    }
}
