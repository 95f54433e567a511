//! Writing a package: admission of an export, the ZIP stream, and the record
//! of the export.

use super::*;

/// A piece of the package on its way to the ZIP writer.
enum Part {
    Start(String),
    Data(Vec<u8>),
}

/// Where the ZIP bytes go: a bounded channel of chunks (the gRPC stream), hashed
/// on the way.
struct ChunkSink {
    tx: mpsc::Sender<Vec<u8>>,
    buf: Vec<u8>,
    hasher: Sha256,
    size: u64,
}

impl ChunkSink {
    fn push(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for ChunkSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.hasher.update(b);
        self.size += b.len() as u64;
        self.buf.extend_from_slice(b);
        if self.buf.len() >= CHUNK {
            self.push()?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.push()
    }
}

/// Writes parts into a streamed ZIP with a SHA256SUMS at the end; returns the
/// package's SHA-256 and size.
fn write_zip(mut parts: mpsc::Receiver<Part>, sink: ChunkSink) -> std::io::Result<(String, u64)> {
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let mut zip = zip::ZipWriter::new_stream(sink);
    let mut sums = String::new();
    let mut current: Option<(String, Sha256)> = None;
    let finish = |cur: &mut Option<(String, Sha256)>, sums: &mut String| {
        if let Some((name, h)) = cur.take() {
            sums.push_str(&format!("{}  {name}\n", hex::encode(h.finalize())));
        }
    };
    while let Some(p) = parts.blocking_recv() {
        match p {
            Part::Start(name) => {
                finish(&mut current, &mut sums);
                zip.start_file(name.as_str(), opts)
                    .map_err(std::io::Error::other)?;
                current = Some((name, Sha256::new()));
            }
            Part::Data(d) => {
                if let Some((_, h)) = current.as_mut() {
                    h.update(&d);
                }
                zip.write_all(&d)?;
            }
        }
    }
    finish(&mut current, &mut sums);
    zip.start_file(SUMS, opts).map_err(std::io::Error::other)?;
    zip.write_all(sums.as_bytes())?;
    let mut sink = zip.finish().map_err(std::io::Error::other)?.into_inner();
    sink.flush()?;
    Ok((hex::encode(sink.hasher.clone().finalize()), sink.size))
}

/// Feeds the ZIP writer; an error means the writer stopped (the client left).
struct Feeder {
    tx: mpsc::Sender<Part>,
}

impl Feeder {
    async fn file(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        self.start(name).await?;
        self.data(bytes).await
    }
    async fn start(&self, name: &str) -> Result<()> {
        self.tx
            .send(Part::Start(name.to_owned()))
            .await
            .map_err(|_| Error::Internal("package writer stopped".into()))
    }
    async fn data(&self, bytes: Vec<u8>) -> Result<()> {
        self.tx
            .send(Part::Data(bytes))
            .await
            .map_err(|_| Error::Internal("package writer stopped".into()))
    }
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(v).map_err(|e| Error::Internal(e.to_string()))
}

/// Checks that a case file can be exported and returns it.
pub async fn exportable(store: &Store, agency: &str, id: &str) -> Result<CaseFileRecord> {
    let c = rq::get(store, agency, id)
        .await?
        .ok_or_else(crate::domain::records::not_found)?;
    if c.state == CaseFileState::Destroyed {
        return Err(Error::rejected(
            Reason::ContentDestroyed,
            "the case file's content was destroyed; only its residual record remains",
        ));
    }
    Ok(c)
}

/// Admits the caller to the content of every letter of `c`. A letter of
/// security level RAHASIA or SANGAT_RAHASIA that the caller takes no part in
/// (see `letters::may_see`) is exported only for an archival reason, which
/// is recorded, one audit event per such letter, before the first byte is
/// streamed. Without a reason the export is refused and nothing is recorded.
/// Returns the letters admitted: the export carries exactly those (a letter
/// filed meanwhile waits for the next export).
pub async fn admit(
    store: &Store,
    p: &crate::auth::Principal,
    meta: &crate::auth::RequestMeta,
    c: &CaseFileRecord,
    access_reason: &str,
) -> Result<Vec<String>> {
    let caller = crate::domain::letters::Caller::cached(store, p).await?;
    let visible = caller.visible_ids();
    let mut outside = Vec::new();
    let ids = dq::letters_of(store, &c.id).await?;
    for id in &ids {
        let Some((l, part)) =
            crate::store::letters::letter_for(store, &c.agency_id, id, &visible).await?
        else {
            continue;
        };
        if l.security_level >= crate::proto::SecurityLevel::Rahasia as i16
            && !crate::domain::letters::may_see(&l, part)
        {
            outside.push(l.id);
        }
    }
    if outside.is_empty() {
        return Ok(ids);
    }
    if access_reason.trim().is_empty() {
        return Err(Error::invalid(
            "access_reason",
            format!(
                "is required: the case file holds {} RAHASIA or SANGAT_RAHASIA letter(s) you take no part in; \
                 give the archival reason for reading them",
                outside.len()
            ),
        ));
    }
    let mut tx = store.begin_write().await?;
    for id in outside {
        let ev = crate::domain::context::Ctx::new(p, meta).event(
            "letter",
            &id,
            format!("archival access to a secret letter for the export of case file {}: {access_reason}", c.id),
        );
        tx.audit(ev);
    }
    tx.commit().await?;
    Ok(ids)
}

/// What an export produced.
#[derive(Clone, Debug)]
pub struct Exported {
    pub sha256: String,
    pub size: u64,
}

/// Records a finished export of case file `case_file_id` (what was exported:
/// its hash and size, by whom, when) and audits it, in a transaction of its
/// own after the package was sent.
pub async fn record_export(
    store: &Store,
    ctx: crate::domain::context::Ctx<'_>,
    case_file_id: &str,
    done: &Exported,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let e = crate::store::disposal::ExportRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: ctx.principal.agency_id.clone(),
        case_file_id: case_file_id.to_owned(),
        sha256: done.sha256.clone(),
        size_bytes: done.size as i64,
        exported_by_user_id: ctx.principal.user_id.clone(),
        exported_at_us: tx.now_us(),
    };
    crate::store::disposal::insert_export(&tx, &e).await?;
    tx.audit(ctx.event(
        "case_file",
        case_file_id,
        format!(
            "archival package exported: {} bytes, sha256 {}",
            done.size, done.sha256
        ),
    ));
    tx.commit().await?;
    Ok(())
}

/// Streams the package of `c` into `out` (chunks of the ZIP). Memory stays flat:
/// letters are read one at a time, blobs in 64 KiB pieces, through bounded channels.
pub async fn export(
    store: &Store,
    blobs: &Blobs,
    c: CaseFileRecord,
    letter_ids: Vec<String>,
    out: mpsc::Sender<Vec<u8>>,
) -> Result<Exported> {
    let (tx, rx) = mpsc::channel::<Part>(4);
    let sink = ChunkSink {
        tx: out,
        buf: Vec::with_capacity(CHUNK),
        hasher: Sha256::new(),
        size: 0,
    };
    let writer = tokio::task::spawn_blocking(move || write_zip(rx, sink));
    let feeder = Feeder { tx };
    let fed = feed(store, blobs, &c, &letter_ids, &feeder).await;
    drop(feeder);
    let written = writer
        .await
        .map_err(|e| Error::Internal(format!("package writer: {e}")))?;
    fed?;
    let (sha256, size) = written.map_err(|e| Error::Internal(format!("package: {e}")))?;
    Ok(Exported { sha256, size })
}

async fn feed(
    store: &Store,
    blobs: &Blobs,
    c: &CaseFileRecord,
    letter_ids: &[String],
    f: &Feeder,
) -> Result<()> {
    let agency = &c.agency_id;
    let class = setupq::classification(store, agency, &c.classification_code).await?;
    let names = signq::agency(store, agency).await?.unwrap_or_default();
    let (agency_name, agency_code) = (names.name, names.code);
    let ca_der = signq::agency_ca(store, agency)
        .await?
        .map(|(cert_der, _)| cert_der)
        .ok_or_else(|| Error::Internal("the agency has no CA".into()))?;
    let ca_pem =
        crate::crypto::x509::to_pem(&ca_der).map_err(|e| Error::Internal(e.to_string()))?;
    f.file("ca/agency-ca.pem", ca_pem.into_bytes()).await?;

    let mut letters = Vec::new();
    let mut peer_cas: HashSet<String> = HashSet::new();
    let mut resources: Vec<(&str, String)> = vec![("case_file", c.id.clone())];
    for id in letter_ids {
        let Some(l) = lq::letter(store, agency, id).await? else {
            continue;
        };
        let dir = format!("letters/{id}");
        let body_file = format!("{dir}/body.md");
        f.file(&body_file, l.body.clone().into_bytes()).await?;
        let mut meta = LetterMeta {
            id: l.id.clone(),
            number: l.number.clone(),
            direction: l.direction.into(),
            state: l.state.into(),
            letter_type: l.letter_type,
            security_level: l.security_level,
            classification_code: l.classification_code.clone(),
            subject: l.subject.clone(),
            created_at: rfc3339(l.created_at_us),
            signed_at: l.sign_time_us.map(rfc3339),
            body_sha256: l.body_sha256.clone(),
            body_file,
            verification_code: l.verification_code.clone().unwrap_or_default(),
            ..Default::default()
        };
        if let Some(s) = lq::signature(store, id).await?
            && !s.signature.is_empty()
        {
            meta.signed_manifest_file = format!("{dir}/signed-manifest.json");
            meta.signature_file = format!("{dir}/signature.p7s");
            f.file(&meta.signed_manifest_file, s.manifest).await?;
            f.file(&meta.signature_file, s.signature).await?;
        }
        exchange_evidence(store, agency, &dir, &mut meta, &mut peer_cas, f).await?;
        for a in aq::list(store, id).await? {
            let file = format!("{dir}/attachments/{}", a.id);
            let mut src = blobs.open(&a.sha256).await.map_err(|e| {
                Error::Internal(format!("attachment {} blob unreadable: {e}", a.id))
            })?;
            f.start(&file).await?;
            loop {
                let mut buf = vec![0u8; CHUNK];
                let n = src
                    .read(&mut buf)
                    .await
                    .map_err(|e| Error::Internal(format!("blob read: {e}")))?;
                if n == 0 {
                    break;
                }
                buf.truncate(n);
                f.data(buf).await?;
            }
            meta.attachments.push(AttachmentMeta {
                id: a.id,
                file_name: a.file_name,
                media_type: a.media_type,
                size_bytes: a.size_bytes,
                sha256: a.sha256,
                is_scan: a.is_scan,
                file,
            });
        }
        for d in dispq::of_letter(store, id).await? {
            resources.push(("disposition", d.id.clone()));
            meta.dispositions.push(DispositionMeta {
                id: d.id,
                parent_id: d.parent_id,
                sender_position_id: d.sender_position_id,
                state: d.state.into(),
                instruction_codes: d.instruction_codes,
                created_at: rfc3339(d.created_at_us),
            });
        }
        resources.push(("letter", id.clone()));
        for x in &meta.exchange {
            let rtype = if x.direction == "sent" {
                "dispatch"
            } else {
                "consignment"
            };
            resources.push((rtype, x.consignment_id.clone()));
        }
        letters.push(meta);
    }

    // Audit events of every item, each resource's events in chain order.
    let events_file = "audit/events.jsonl";
    f.start(events_file).await?;
    let mut count = 0u64;
    for (rtype, rid) in &resources {
        let mut after = 0;
        loop {
            let page = dq::events_of(store, rtype, rid, after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let mut buf = Vec::new();
            for e in page {
                count += 1;
                serde_json::to_writer(&mut buf, &AuditLine::from(e))
                    .map_err(|e| Error::Internal(e.to_string()))?;
                buf.push(b'\n');
            }
            f.data(buf).await?;
        }
    }

    let holds = rq::holds_for(store, &c.id, letter_ids)
        .await?
        .into_iter()
        .map(|h| HoldMeta {
            id: h.id,
            case_file_id: h.case_file_id,
            letter_id: h.letter_id,
            reason: h.reason,
            authority: h.authority,
            placed_by_user_id: h.placed_by_user_id,
            placed_at: rfc3339(h.placed_at_us),
            released_by_user_id: h.released_by_user_id,
            released_at: h.released_at_us.map(rfc3339),
        })
        .collect();
    let fd = crate::proto::FinalDisposition::try_from(i32::from(c.final_disposition))
        .map(|d| {
            d.as_str_name()
                .trim_start_matches("FINAL_DISPOSITION_")
                .to_owned()
        })
        .unwrap_or_default();
    let manifest = PackageManifest {
        format: FORMAT.to_owned(),
        exported_at: rfc3339(store.clock().now_us()),
        agency: AgencyMeta {
            id: agency.clone(),
            code: agency_code,
            name: agency_name,
            ca_file: "ca/agency-ca.pem".into(),
        },
        case_file: CaseFileMeta {
            id: c.id.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            unit_id: c.unit_id.clone(),
            state: c.state.into(),
            classification_code: c.classification_code.clone(),
            classification_title: class.as_ref().map(|k| k.title.clone()).unwrap_or_default(),
            active_years: class.as_ref().map(|k| k.active_years).unwrap_or_default(),
            inactive_years: class.as_ref().map(|k| k.inactive_years).unwrap_or_default(),
            final_disposition: fd,
            opened_at: rfc3339(c.open_at_us),
            closed_at: c.close_at_us.map(rfc3339),
            active_until: c.active_until_us.map(rfc3339),
            inactive_until: c.inactive_until_us.map(rfc3339),
        },
        holds,
        letters,
        audit: AuditMeta {
            events_file: events_file.into(),
            events: count,
        },
    };
    f.file("manifest.json", json(&manifest)?).await?;
    Ok(())
}

/// The file of a peer agency's CA, written once per package.
async fn peer_ca_file(
    code: &str,
    ca_der: &[u8],
    written: &mut HashSet<String>,
    f: &Feeder,
) -> Result<String> {
    let file = format!("ca/peers/{code}.pem");
    if written.insert(code.to_owned()) {
        let pem =
            crate::crypto::x509::to_pem(ca_der).map_err(|e| Error::Internal(e.to_string()))?;
        f.file(&file, pem.into_bytes()).await?;
    }
    Ok(file)
}

/// A letter's exchange evidence: the receipts and outcomes of its
/// consignments to other agencies, or, for a letter received by exchange,
/// the sender's signed manifest and signature with the receipt and outcome
/// this agency issued.
async fn exchange_evidence(
    store: &Store,
    agency: &str,
    dir: &str,
    meta: &mut LetterMeta,
    peer_cas: &mut HashSet<String>,
    f: &Feeder,
) -> Result<()> {
    use crate::store::exchange as xq;
    let statement = async |base: &str,
                           name: &str,
                           content: Option<Vec<u8>>,
                           sig: Option<Vec<u8>>| match (content, sig) {
        (Some(c), Some(s)) if !c.is_empty() => {
            let (cf, sf) = (format!("{base}/{name}.pb"), format!("{base}/{name}.p7s"));
            f.file(&cf, c).await?;
            f.file(&sf, s).await?;
            Ok::<_, Error>((cf, sf))
        }
        _ => Ok((String::new(), String::new())),
    };
    for o in xq::outs_of_letters(store, std::slice::from_ref(&meta.id)).await? {
        let Some(ca) = crate::domain::exchange::peers::ca_of(store, agency, &o.peer_code).await?
        else {
            continue;
        };
        let issuer_ca_file = peer_ca_file(&o.peer_code, &ca, peer_cas, f).await?;
        let base = format!("{dir}/exchange/{}", o.id);
        let (receipt_file, receipt_signature_file) = statement(
            &base,
            "receipt",
            o.receipt.clone(),
            o.receipt_signature.clone(),
        )
        .await?;
        let (outcome_file, outcome_signature_file) = statement(
            &base,
            "outcome",
            o.outcome.clone(),
            o.outcome_signature.clone(),
        )
        .await?;
        meta.exchange.push(ExchangeMeta {
            consignment_id: o.id.clone(),
            direction: "sent".into(),
            peer_agency_code: o.peer_code.clone(),
            status: crate::proto::DispatchStatus::try_from(i32::from(o.status))
                .map(|s| {
                    s.as_str_name()
                        .trim_start_matches("DISPATCH_STATUS_")
                        .to_owned()
                })
                .unwrap_or_default(),
            receipt_file,
            receipt_signature_file,
            outcome_file,
            outcome_signature_file,
            issuer_ca_file,
        });
    }
    if let Some(r) = xq::received_letter(store, &meta.id).await? {
        let base = format!("{dir}/exchange/{}", r.consignment_id);
        if let (Some(m), Some(s), Some(ca)) = (
            r.manifest.clone(),
            r.manifest_signature.clone(),
            r.signer_ca_der.clone(),
        ) {
            meta.signed_manifest_file = format!("{dir}/signed-manifest.json");
            meta.signature_file = format!("{dir}/signature.p7s");
            f.file(&meta.signed_manifest_file, m).await?;
            f.file(&meta.signature_file, s).await?;
            meta.signer_ca_file = peer_ca_file(&r.sender_code, &ca, peer_cas, f).await?;
        }
        let (receipt_file, receipt_signature_file) = statement(
            &base,
            "receipt",
            Some(r.receipt.clone()),
            Some(r.receipt_signature.clone()),
        )
        .await?;
        let (outcome_file, outcome_signature_file) = statement(
            &base,
            "outcome",
            r.outcome.clone(),
            r.outcome_signature.clone(),
        )
        .await?;
        meta.exchange.push(ExchangeMeta {
            consignment_id: r.consignment_id.clone(),
            direction: "received".into(),
            peer_agency_code: r.sender_code.clone(),
            status: "REGISTERED".into(),
            receipt_file,
            receipt_signature_file,
            outcome_file,
            outcome_signature_file,
            issuer_ca_file: "ca/agency-ca.pem".into(),
        });
    }
    Ok(())
}
