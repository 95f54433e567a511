//! Checking a package offline (`naskah package verify`).

use super::*;

/// What a verified package holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub files: usize,
    pub letters: usize,
    pub signatures: usize,
    pub events: usize,
}

/// Checks a package offline: every checksum, every signature against the included
/// CA, the signed manifests against the files, and the audit excerpt's hashes.
/// The error names the first problem (and the file it is in).
pub fn verify_file(path: &std::path::Path) -> std::result::Result<Verified, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("not a ZIP archive: {e}"))?;
    let read_all = |zip: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut e = zip
            .by_name(name)
            .map_err(|_| format!("{name}: missing from the package"))?;
        let mut v = Vec::new();
        e.read_to_end(&mut v)
            .map_err(|err| format!("{name}: cannot be read ({err})"))?;
        Ok::<_, String>(v)
    };
    let sums =
        String::from_utf8(read_all(&mut zip, SUMS)?).map_err(|_| format!("{SUMS}: not UTF-8"))?;
    let mut listed = BTreeMap::new();
    for (i, line) in sums.lines().enumerate() {
        let (hash, name) = line
            .split_once("  ")
            .ok_or_else(|| format!("{SUMS}: line {} is malformed", i + 1))?;
        listed.insert(name.to_owned(), hash.to_owned());
    }
    let mut files = 0;
    for i in 0..zip.len() {
        let mut e = zip
            .by_index(i)
            .map_err(|err| format!("entry {i}: cannot be read ({err})"))?;
        let name = e
            .name()
            .map_err(|err| format!("entry {i}: bad name ({err})"))?
            .into_owned();
        if e.is_dir() || name == SUMS {
            continue;
        }
        let want = listed
            .remove(&name)
            .ok_or_else(|| format!("{name}: not listed in {SUMS}"))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = e
                .read(&mut buf)
                .map_err(|err| format!("{name}: cannot be read ({err})"))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        if hex::encode(h.finalize()) != want {
            return Err(format!("{name}: checksum mismatch"));
        }
        files += 1;
    }
    if let Some(name) = listed.keys().next() {
        return Err(format!("{name}: listed in {SUMS} but missing"));
    }

    let manifest: PackageManifest =
        serde_json::from_slice(&read_all(&mut zip, "manifest.json")?)
            .map_err(|e| format!("manifest.json: not a package manifest ({e})"))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "manifest.json: unknown format {:?}",
            manifest.format
        ));
    }
    let ca_pem = read_all(&mut zip, &manifest.agency.ca_file)?;
    let ca_der = pem_to_der(&ca_pem)
        .ok_or_else(|| format!("{}: not a PEM certificate", manifest.agency.ca_file))?;
    let mut signatures = 0;
    let mut ids: HashSet<String> = HashSet::from([manifest.case_file.id.clone()]);
    for l in &manifest.letters {
        ids.insert(l.id.clone());
        ids.extend(l.dispositions.iter().map(|d| d.id.clone()));
        ids.extend(l.exchange.iter().map(|x| x.consignment_id.clone()));
        let body = read_all(&mut zip, &l.body_file)?;
        let body_sha = hex::encode(Sha256::digest(&body));
        if body_sha != l.body_sha256 {
            return Err(format!(
                "{}: does not match the letter's body hash",
                l.body_file
            ));
        }
        for a in &l.attachments {
            let bytes = read_all(&mut zip, &a.file)?;
            if hex::encode(Sha256::digest(&bytes)) != a.sha256 {
                return Err(format!("{}: does not match the attachment's hash", a.file));
            }
        }
        for x in &l.exchange {
            let issuer = read_all(&mut zip, &x.issuer_ca_file)?;
            let issuer = pem_to_der(&issuer)
                .ok_or_else(|| format!("{}: not a PEM certificate", x.issuer_ca_file))?;
            for (content_file, sig_file) in [
                (&x.receipt_file, &x.receipt_signature_file),
                (&x.outcome_file, &x.outcome_signature_file),
            ] {
                if content_file.is_empty() {
                    continue;
                }
                let content = read_all(&mut zip, content_file)?;
                let sig = read_all(&mut zip, sig_file)?;
                crate::crypto::cms_sign::verify_detached(&sig, &content, &issuer).map_err(|e| {
                    format!(
                        "{sig_file}: does not verify against {} ({})",
                        x.issuer_ca_file,
                        e.code()
                    )
                })?;
                signatures += 1;
            }
        }
        if l.signature_file.is_empty() {
            continue;
        }
        let signed = read_all(&mut zip, &l.signed_manifest_file)?;
        let sig = read_all(&mut zip, &l.signature_file)?;
        let (signer_ca, which) = if l.signer_ca_file.is_empty() {
            (ca_der.clone(), "the agency CA".to_owned())
        } else {
            let pem = read_all(&mut zip, &l.signer_ca_file)?;
            (
                pem_to_der(&pem)
                    .ok_or_else(|| format!("{}: not a PEM certificate", l.signer_ca_file))?,
                l.signer_ca_file.clone(),
            )
        };
        crate::crypto::cms_sign::verify_detached(&sig, &signed, &signer_ca).map_err(|e| {
            format!(
                "{}: signature does not verify against {which} ({})",
                l.signature_file,
                e.code()
            )
        })?;
        let sm: serde_json::Value = serde_json::from_slice(&signed)
            .map_err(|_| format!("{}: not JSON", l.signed_manifest_file))?;
        if sm["body_sha256"].as_str() != Some(body_sha.as_str()) {
            return Err(format!(
                "{}: body hash differs from the signed manifest",
                l.body_file
            ));
        }
        let signed_atts: HashSet<&str> = sm["attachments"]
            .as_array()
            .map(|v| v.iter().filter_map(|a| a["sha256"].as_str()).collect())
            .unwrap_or_default();
        let packed: HashSet<&str> = l.attachments.iter().map(|a| a.sha256.as_str()).collect();
        if let Some(missing) = signed_atts.iter().find(|s| !packed.contains(*s)) {
            return Err(format!(
                "{}: signed attachment {missing} is not in the package",
                l.signed_manifest_file
            ));
        }
        signatures += 1;
    }

    let events_raw = read_all(&mut zip, &manifest.audit.events_file)?;
    let events_name = &manifest.audit.events_file;
    let mut by_seq: BTreeMap<i64, AuditLine> = BTreeMap::new();
    for (i, line) in events_raw.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let e: AuditLine = serde_json::from_slice(line)
            .map_err(|_| format!("{events_name}: line {} is not an event", i + 1))?;
        if e.recomputed().as_deref() != Some(e.hash.as_str()) {
            return Err(format!(
                "{events_name}: line {}: event {} does not match its chain hash",
                i + 1,
                e.seq
            ));
        }
        if !ids.contains(&e.resource_id) {
            return Err(format!(
                "{events_name}: line {}: event {} is about {} {}, not in the package",
                i + 1,
                e.seq,
                e.resource_type,
                e.resource_id
            ));
        }
        by_seq.insert(e.seq, e);
    }
    let mut prev: Option<&AuditLine> = None;
    for e in by_seq.values() {
        if let Some(p) = prev
            && p.seq + 1 == e.seq
            && e.prev_hash != p.hash
        {
            return Err(format!(
                "{events_name}: event {} does not link to event {}",
                e.seq, p.seq
            ));
        }
        prev = Some(e);
    }
    if by_seq.len() as u64 != manifest.audit.events {
        return Err(format!(
            "{events_name}: {} events, the manifest says {}",
            by_seq.len(),
            manifest.audit.events
        ));
    }
    Ok(Verified {
        files,
        letters: manifest.letters.len(),
        signatures,
        events: by_seq.len(),
    })
}

fn pem_to_der(pem: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = std::str::from_utf8(pem).ok()?;
    let b64: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}
