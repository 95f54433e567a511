//! Letters end to end: the demo scenario, signatures checked by OpenSSL, numbering
//! under concurrency, visibility of secret letters, incoming letters, attachments.
//! One module per part; the listing and reading helpers they share are here.

mod drafting;
mod incoming;
mod numbering;
mod scenario;
mod visibility;
mod visibility_table;

use naskah::proto::{self as pb, Folder};

use naskah_testkit::demo::letters;
use naskah_testkit::{TestServer, authed};

async fn ids_in(t: &TestServer, token: &str, folder: Folder) -> Vec<String> {
    letters(t)
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: folder as i32,
                page_size: 200,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("list")
        .into_inner()
        .letters
        .into_iter()
        .map(|l| l.id)
        .collect()
}

/// Every page of a listing, following its page tokens from the first.
async fn pages(t: &TestServer, token: &str, req: pb::ListLettersRequest) -> Vec<Vec<pb::Letter>> {
    let mut out = Vec::new();
    let mut next = String::new();
    loop {
        let page = letters(t)
            .list_letters(authed(
                pb::ListLettersRequest {
                    page_token: next,
                    ..req.clone()
                },
                token,
            ))
            .await
            .expect("page")
            .into_inner();
        out.push(page.letters);
        if page.next_page_token.is_empty() {
            return out;
        }
        next = page.next_page_token;
    }
}

async fn get_as(t: &TestServer, token: &str, id: &str) -> pb::Letter {
    letters(t)
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: id.to_owned(),
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("get")
        .into_inner()
}

/// (year, month) now in WIB, the demo agency's time zone.
fn wib_now() -> (i32, u32) {
    naskah_testkit::calendar::year_month(
        naskah_testkit::clock::Clock::now_us(&naskah_testkit::clock::SystemClock),
        "Asia/Jakarta",
    )
}

fn year_now() -> i32 {
    wib_now().0
}
