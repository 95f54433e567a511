//! What an operator does to an installation outside the contract (the
//! `naskah agency …` commands), done on a running test server's own store so
//! that its caches see the change at once.

use crate::{Refusal, TestServer};

/// A new agency of the installation (`naskah agency create CODE --name
/// NAME`): its administrator's login name and one-time password among the
/// rest.
pub async fn create_agency(
    t: &TestServer,
    code: &str,
    name: &str,
) -> Result<naskah::domain::identity::CreatedAgency, Refusal> {
    Ok(naskah::domain::identity::create_agency(t.store(), &t.app().master_key, code, name).await?)
}

/// The number template of an agency, one yearly sequence for the whole
/// agency (`naskah agency set-numbering --scope agency`).
pub async fn set_agency_numbering(
    t: &TestServer,
    agency_code: &str,
    template: &str,
) -> Result<(), Refusal> {
    Ok(naskah::domain::numbering::configure(
        t.store(),
        agency_code,
        template,
        naskah::domain::numbering::Scope::Agency,
    )
    .await?)
}

/// An agency's time zone (`naskah agency set-time-zone`).
pub async fn set_time_zone(t: &TestServer, agency_code: &str, zone: &str) -> Result<(), Refusal> {
    Ok(naskah::domain::calendar::set_agency_zone(t.store(), agency_code, zone).await?)
}

/// Who approves an agency's disposals and where its berita acara are filed
/// (`naskah agency set-records`).
pub async fn set_records(
    t: &TestServer,
    agency_code: &str,
    records_unit_code: &str,
    approver_position_ids: Vec<String>,
    record_class_code: &str,
) -> Result<(), Refusal> {
    let settings = naskah::domain::disposal::RecordsSettings {
        records_unit_code: records_unit_code.into(),
        approver_position_ids,
        record_class_code: record_class_code.into(),
    };
    Ok(naskah::domain::disposal::configure(t.store(), agency_code, &settings).await?)
}
