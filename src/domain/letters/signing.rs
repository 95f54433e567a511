//! Signing: the number, the signed manifest and its CMS signature, delivery.

use super::*;

/// The signed manifest (DESIGN.md "The signed artefact"), serialised with a fixed
/// field order; the bytes are what the CMS signature covers.
#[derive(Serialize)]
pub(super) struct Manifest<'a> {
    format: &'static str,
    agency: ManifestAgency<'a>,
    letter_id: &'a str,
    number: &'a str,
    date: String,
    #[serde(rename = "type")]
    letter_type: &'a str,
    security_level: &'a str,
    urgency: i16,
    classification: &'a str,
    subject: &'a str,
    recipients: Vec<ManifestAddressee<'a>>,
    carbon_copies: Vec<ManifestAddressee<'a>>,
    body_sha256: &'a str,
    attachments: Vec<ManifestAttachment>,
    approvals: Vec<ManifestApproval>,
    signer: ManifestApproval,
    verification_code: &'a str,
}

#[derive(Serialize)]
pub(super) struct ManifestAgency<'a> {
    id: &'a str,
    code: String,
    name: String,
}

#[derive(Serialize)]
pub(super) struct ManifestAddressee<'a> {
    position_id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
pub(super) struct ManifestAttachment {
    file_name: String,
    sha256: String,
    size_bytes: i64,
}

#[derive(Serialize)]
pub(super) struct ManifestApproval {
    step: i32,
    position_id: String,
    position_name: String,
    user_id: String,
    user_name: String,
    nip: String,
    acting_as: String,
    decision: &'static str,
    time: String,
    version: i32,
}

pub(super) fn kind_name(k: i16) -> &'static str {
    match k {
        2 => "PLT",
        3 => "PLH",
        _ => "DEFINITIVE",
    }
}

pub(super) async fn approval(
    tx: &WriteTx,
    agency: &str,
    s: &StepRecord,
) -> Result<ManifestApproval> {
    let user = idq::user_by_id(tx, &s.decided_by_user_id).await?;
    let pos = orgq::position(tx, agency, &s.position_id).await?;
    Ok(ManifestApproval {
        step: s.idx + 1,
        position_id: s.position_id.clone(),
        position_name: pos.map(|p| p.name).unwrap_or_default(),
        user_id: s.decided_by_user_id.clone(),
        user_name: user
            .as_ref()
            .map(|u| u.full_name.clone())
            .unwrap_or_default(),
        nip: user.map(|u| u.nip).unwrap_or_default(),
        acting_as: kind_name(s.decided_by_assignment_kind).into(),
        decision: if s.decision == Decision::Approved {
            "APPROVED"
        } else {
            "RETURNED"
        },
        time: s.decide_time_us.map(rfc3339).unwrap_or_default(),
        version: s.version,
    })
}

pub(super) fn verification_code() -> String {
    use rand_core::{OsRng, RngCore};
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Signs an approved letter with an unlocked key: number, manifest, CMS
/// signature, verification code and delivery, all in `tx`.
pub async fn sign(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
    key: &p256::ecdsa::SigningKey,
    key_rec: &signq::KeyRecord,
    exchange: Option<&crate::domain::exchange::Exchange>,
) -> Result<LetterRecord> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let mut l = load_for_update(tx, ctx, &caller, id, etag_sent).await?;
    allows(&l, LetterEvent::Sign)?;
    let mut steps = q::steps(&*tx, id).await?;
    let now = tx.now_us();
    let (s, held) = current(&l, &mut steps, &caller)?;
    if s.kind != StepKind::Signer {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the letter still waits for a reviewer",
        ));
    }
    decide(s, p, &held, Decision::Approved, l.version, now);
    let signer_step = s.clone();
    q::save_step(&*tx, &signer_step).await?;

    // Number.
    let signer_pos = orgq::position(&*tx, &p.agency_id, &held.position_id)
        .await?
        .ok_or_else(|| Error::Internal("signer position vanished".into()))?;
    let unit = orgq::unit(&*tx, &p.agency_id, &signer_pos.unit_id)
        .await?
        .ok_or_else(|| Error::Internal("signer unit vanished".into()))?;
    let (template, scope) = setupq::numbering(&*tx, &p.agency_id)
        .await?
        .unwrap_or_else(|| ("{class}/{seq}/{unit}/{year}".into(), Scope::Agency as i16));
    let lt = LetterType::try_from(i32::from(l.letter_type)).unwrap_or(LetterType::Lainnya);
    let sec = SecurityLevel::try_from(i32::from(l.security_level)).unwrap_or(SecurityLevel::Biasa);
    let names = signq::agency(&*tx, &p.agency_id).await?.unwrap_or_default();
    let zone = crate::domain::calendar::zone_or_default(&names.time_zone);
    let (year, month) = crate::domain::calendar::year_month(now, &zone)?;
    let seq = q::next_seq(
        &*tx,
        &p.agency_id,
        &Scope::from_code(scope).key(&unit.id, lt),
        year,
    )
    .await?;
    let number = numbering::render(
        &template,
        &Parts {
            letter_type: lt,
            security: sec,
            seq,
            unit_code: &unit.code,
            position: &signer_pos.name,
            class: &l.classification_code,
            year,
            month,
        },
    );

    // Manifest.
    let code = verification_code();
    let (agency_name, agency_code) = (names.name, names.code);
    let addressees = q::addressees(&*tx, id).await?;
    let to: Vec<ManifestAddressee<'_>> = addressees
        .iter()
        .filter(|a| a.kind == AddresseeKind::To)
        .map(|a| ManifestAddressee {
            position_id: &a.position_id,
            name: &a.display_name,
        })
        .collect();
    let cc: Vec<ManifestAddressee<'_>> = addressees
        .iter()
        .filter(|a| a.kind == AddresseeKind::Cc)
        .map(|a| ManifestAddressee {
            position_id: &a.position_id,
            name: &a.display_name,
        })
        .collect();
    let mut approvals = Vec::new();
    for st in steps.iter().filter(|st| st.kind == StepKind::Reviewer) {
        approvals.push(approval(tx, &p.agency_id, st).await?);
    }
    let attachments = crate::store::attachments::list(&*tx, id)
        .await?
        .into_iter()
        .map(|a| ManifestAttachment {
            file_name: a.file_name,
            sha256: a.sha256,
            size_bytes: a.size_bytes,
        })
        .collect();
    let manifest = Manifest {
        format: "naskah.manifest.v1",
        agency: ManifestAgency {
            id: &p.agency_id,
            code: agency_code,
            name: agency_name,
        },
        letter_id: id,
        number: &number,
        date: rfc3339(now),
        letter_type: lt.as_str_name().trim_start_matches("LETTER_TYPE_"),
        security_level: sec.as_str_name().trim_start_matches("SECURITY_LEVEL_"),
        urgency: l.urgency,
        classification: &l.classification_code,
        subject: &l.subject,
        recipients: to,
        carbon_copies: cc,
        body_sha256: &l.body_sha256,
        attachments,
        approvals,
        signer: approval(tx, &p.agency_id, &signer_step).await?,
        verification_code: &code,
    };
    let manifest_bytes =
        serde_json::to_vec(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
    let signer_name = manifest.signer.user_name.clone();
    let signer_position = manifest.signer.position_name.clone();
    let signature = crate::crypto::cms_sign::sign_detached(key, &key_rec.cert_der, &manifest_bytes)
        .map_err(|e| Error::Internal(e.to_string()))?;
    q::insert_signature(
        &*tx,
        &q::SignatureRecord {
            letter_id: id.to_owned(),
            manifest_sha256: sha256_hex(&manifest_bytes),
            manifest: manifest_bytes.clone(),
            signature: signature.clone(),
            cert_serial: key_rec.serial.clone(),
            verification_code: code.clone(),
            created_at_us: now,
        },
    )
    .await?;

    // Delivery.
    q::box_remove(&*tx, id, Folder::ToSign, None).await?;
    for a in addressees.iter().filter(|a| !a.position_id.is_empty()) {
        let to = a.kind == AddresseeKind::To;
        enrol_addressee(
            tx,
            &p.agency_id,
            &a.position_id,
            to,
            id,
            now,
            l.created_at_us,
        )
        .await?;
        let kind = if to {
            NoticeKind::LetterReceived
        } else {
            NoticeKind::LetterCopied
        };
        notice(tx, kind, &a.position_id, id);
    }
    q::box_put(
        &*tx,
        &p.agency_id,
        &l.drafting_position_id,
        Folder::Sent,
        id,
        now,
    )
    .await?;
    if held.position_id != l.drafting_position_id {
        q::box_put(&*tx, &p.agency_id, &held.position_id, Folder::Sent, id, now).await?;
    }
    apply(&mut l, LetterEvent::Sign)?;
    l.number = number.clone();
    l.sign_time_us = Some(now);
    l.signer_user_id = p.user_id.clone();
    l.signer_position_id = held.position_id.clone();
    l.verification_code = Some(code);
    save(tx, &mut l).await?;
    let externals = addressees
        .iter()
        .filter(|a| a.position_id.is_empty())
        .count();
    let exchanged = crate::domain::exchange::outbox::queue(
        tx,
        exchange,
        crate::domain::exchange::outbox::Signed {
            letter: &l,
            manifest: &manifest_bytes,
            signature: &signature,
            signer_cert: &key_rec.cert_der,
            signer_name: &signer_name,
            signer_position: &signer_position,
            addressees: &addressees,
        },
    )
    .await?;
    tx.audit(actor_event(
        ctx,
        &held.position_id,
        "letter",
        id,
        format!(
            "signed as {number}; delivered; {externals} external addressee(s), \
             {exchanged} of them queued for exchange"
        ),
    ));
    Ok(l)
}
