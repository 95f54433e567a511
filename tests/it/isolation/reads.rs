//! The reads of one caller that take a letter id, and the comparable part of
//! their answers.

use std::collections::BTreeSet;

use naskah::proto::disposition_service_client::DispositionServiceClient;
use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::{self as pb, Folder};
use naskah_testkit::{TestServer, authed};
use tonic::Code;

/// The comparable part of an answer: code, message and details (request ids
/// travel in metadata and differ on every call).
pub(super) fn answer<T>(r: &Result<T, tonic::Status>) -> Option<(Code, String, Vec<u8>)> {
    r.as_ref()
        .err()
        .map(|e| (e.code(), e.message().to_owned(), e.details().to_vec()))
}

/// The reads of one caller that take a letter id.
pub(super) struct ReadsById<'a> {
    t: &'a TestServer,
    token: &'a str,
}

pub(super) type Answer = Option<(Code, String, Vec<u8>)>;

impl<'a> ReadsById<'a> {
    pub(super) fn new(t: &'a TestServer, token: &'a str) -> Self {
        Self { t, token }
    }

    pub(super) async fn all(&self, id: &str) -> Vec<(&'static str, Answer)> {
        let mut l = LetterServiceClient::new(self.t.channel.clone());
        let mut d = DispositionServiceClient::new(self.t.channel.clone());
        let tok = self.token;
        let id = id.to_owned();
        vec![
            (
                "GetLetter",
                answer(
                    &l.get_letter(authed(
                        pb::GetLetterRequest {
                            letter_id: id.clone(),
                            ..Default::default()
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
            (
                "ListVersions",
                answer(
                    &l.list_versions(authed(
                        pb::ListVersionsRequest {
                            letter_id: id.clone(),
                            ..Default::default()
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
            (
                "ListComments",
                answer(
                    &l.list_comments(authed(
                        pb::ListCommentsRequest {
                            letter_id: id.clone(),
                            ..Default::default()
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
            (
                "GetSignedDocument",
                answer(
                    &l.get_signed_document(authed(
                        pb::GetSignedDocumentRequest {
                            letter_id: id.clone(),
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
            (
                "GetDispositionTree",
                answer(
                    &d.get_disposition_tree(authed(
                        pb::GetDispositionTreeRequest {
                            letter_id: id.clone(),
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
        ]
    }

    pub(super) async fn download(&self, attachment: &str) -> Answer {
        let r = LetterServiceClient::new(self.t.channel.clone())
            .download_attachment(authed(
                pb::DownloadAttachmentRequest {
                    attachment_id: attachment.to_owned(),
                },
                self.token,
            ))
            .await;
        match r {
            Err(e) => Some((e.code(), e.message().to_owned(), e.details().to_vec())),
            Ok(s) => {
                let mut s = s.into_inner();
                match s.message().await {
                    Ok(_) => None,
                    Err(e) => Some((e.code(), e.message().to_owned(), e.details().to_vec())),
                }
            }
        }
    }

    pub(super) async fn all_visible(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut page = String::new();
        loop {
            let r = LetterServiceClient::new(self.t.channel.clone())
                .list_letters(authed(
                    pb::ListLettersRequest {
                        folder: Folder::AllVisible as i32,
                        page_size: 200,
                        page_token: page.clone(),
                        ..Default::default()
                    },
                    self.token,
                ))
                .await;
            let r = match r {
                Ok(r) => r.into_inner(),
                // A caller without positions has nothing to list.
                Err(e) if e.code() == Code::PermissionDenied || e.code() == Code::NotFound => break,
                Err(e) => panic!("list: {e:?}"),
            };
            out.extend(r.letters.into_iter().map(|l| l.id));
            if r.next_page_token.is_empty() {
                break;
            }
            page = r.next_page_token;
        }
        out
    }
}
