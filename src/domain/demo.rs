//! The demo agency: a fictional provincial government, seeded by
//! `naskah serve --demo` on an empty database so the whole flow can be tried at
//! once. Every demo user's password is [`DEMO_PASSWORD`].

use crate::audit::NewEvent;
use crate::auth::password;
use crate::error::{Error, Result};
use crate::proto::{AssignmentKind, Role};
use crate::store::identity as idq;
use crate::store::org::{self as q, AssignmentRecord, PositionRecord, UnitRecord};
use crate::store::{Store, setup};

/// Password of every demo user.
pub const DEMO_PASSWORD: &str = "naskah-demo";
/// Signing passphrase of every demo signer.
pub const DEMO_PASSPHRASE: &str = "naskah-demo-sign";
/// Number template of the demo agency (regional style).
pub const DEMO_NUMBER_TEMPLATE: &str = "{class}/{seq}/{unit}/{year}";
/// Numbering scope code of the demo agency: per unit.
pub const DEMO_NUMBERING_SCOPE: i16 = 2;

/// The demo classification scheme, imported through the normal CSV path.
pub const DEMO_CLASSIFICATIONS_CSV: &str = "\
code,title,active_years,inactive_years,final_disposition,security_level
000,Umum,2,3,MUSNAH,BIASA
000.1,Ketatausahaan dan Kerumahtanggaan,2,3,MUSNAH,
000.1.1,Telekomunikasi,1,1,MUSNAH,
000.1.2,Perjalanan Dinas,2,3,MUSNAH,
000.1.3,Rapat dan Pertemuan,,,,
000.2,Perlengkapan,3,5,MUSNAH,
000.5,Kearsipan,2,8,PERMANEN,
000.5.1,Pengelolaan Arsip Dinamis,,,,
000.5.2,Penyusutan Arsip,2,8,PERMANEN,
000.8,Organisasi dan Tata Laksana,2,5,PERMANEN,
000.8.3,Ketatalaksanaan,,,,
000.8.3.3,Tata Naskah Dinas,2,5,PERMANEN,
000.9,Pengawasan Internal,2,5,DINILAI_KEMBALI,TERBATAS
800,Kepegawaian,2,3,MUSNAH,TERBATAS
800.1,Sumber Daya Manusia,2,3,MUSNAH,
800.1.1,Formasi,,,,
800.1.2,Pengadaan Pegawai,2,3,PERMANEN,
800.2,Pendidikan dan Pelatihan,2,3,MUSNAH,
800.2.1,Pendidikan dan Pelatihan Kepemimpinan,,,,
800.3,Administrasi Pegawai,2,3,MUSNAH,
800.3.1,Kenaikan Pangkat,2,3,MUSNAH,
800.3.4,Disiplin Pegawai,2,5,DINILAI_KEMBALI,RAHASIA
";

/// The standard disposition instructions: (code, text).
pub const STANDARD_INSTRUCTIONS: &[(&str, &str)] = &[
    ("TINDAK_LANJUTI", "Tindak lanjuti"),
    ("UNTUK_DIKETAHUI", "Untuk diketahui"),
    ("SIAPKAN_JAWABAN", "Siapkan jawaban"),
    ("HADIRI_WAKILI", "Hadiri/wakili"),
    ("KOORDINASIKAN", "Koordinasikan"),
    ("PELAJARI_LAPORKAN", "Pelajari dan laporkan"),
    ("UNTUK_DIPROSES", "Untuk diproses"),
    ("ARSIPKAN", "Arsipkan"),
];

/// Units: (code, name, parent code).
const UNITS: &[(&str, &str, &str)] = &[
    ("PEMPROV", "Pemerintah Provinsi", ""),
    ("SETDA", "Sekretariat Daerah", "PEMPROV"),
    ("DISKOMINFO", "Dinas Komunikasi dan Informatika", "PEMPROV"),
    ("SEKDIS", "Sekretariat Dinas", "DISKOMINFO"),
    ("APTIKA", "Bidang Aplikasi Informatika", "DISKOMINFO"),
    ("EGOV", "Seksi E-Government", "APTIKA"),
    (
        "IKP",
        "Bidang Informasi dan Komunikasi Publik",
        "DISKOMINFO",
    ),
    ("INSPEKTORAT", "Inspektorat", "PEMPROV"),
];

/// Positions: (key, name, unit code, superior key, heads its unit).
const POSITIONS: &[(&str, &str, &str, &str, bool)] = &[
    ("gubernur", "Gubernur", "PEMPROV", "", true),
    ("sekda", "Sekretaris Daerah", "SETDA", "gubernur", true),
    ("kadis", "Kepala Dinas", "DISKOMINFO", "sekda", true),
    ("tu", "Pelaksana", "SEKDIS", "kadis", false),
    (
        "kabid.aptika",
        "Kepala Bidang Aplikasi Informatika",
        "APTIKA",
        "kadis",
        true,
    ),
    (
        "kasi.egov",
        "Kepala Seksi E-Government",
        "EGOV",
        "kabid.aptika",
        true,
    ),
    ("staf.egov", "Pelaksana", "EGOV", "kasi.egov", false),
    (
        "kabid.ikp",
        "Kepala Bidang Informasi dan Komunikasi Publik",
        "IKP",
        "kadis",
        true,
    ),
    ("pencatat", "Pencatat Surat", "SEKDIS", "kadis", false),
    ("arsiparis", "Arsiparis", "SEKDIS", "kadis", false),
    (
        "auditor",
        "Auditor Internal",
        "INSPEKTORAT",
        "gubernur",
        false,
    ),
];

/// Users: (username, full name, NIP, position key or "", roles).
const USERS: &[(&str, &str, &str, &str, &[Role])] = &[
    (
        "gubernur",
        "Dr. Arif Wicaksono",
        "196501011990031001",
        "gubernur",
        &[Role::User],
    ),
    (
        "sekda",
        "Ir. Sri Handayani, M.Si.",
        "196803121992032002",
        "sekda",
        &[Role::User],
    ),
    (
        "kadis.kominfo",
        "Bambang Prasetyo, S.Kom., M.T.",
        "197204151998031003",
        "kadis",
        &[Role::User],
    ),
    (
        "tu.kominfo",
        "Rina Marlina, A.Md.",
        "198807202010012004",
        "tu",
        &[Role::User, Role::Secretary],
    ),
    (
        "kabid.aptika",
        "Dedi Kurniawan, S.T., M.Kom.",
        "197909092005011005",
        "kabid.aptika",
        &[Role::User],
    ),
    (
        "kasi.egov",
        "Wulan Sari, S.Kom.",
        "198502282009022006",
        "kasi.egov",
        &[Role::User],
    ),
    (
        "staf.egov",
        "Agus Setiawan, S.Kom.",
        "199311112019031007",
        "staf.egov",
        &[Role::User],
    ),
    (
        "kabid.ikp",
        "Maya Anggraini, S.Sos., M.I.Kom.",
        "198001302006042008",
        "kabid.ikp",
        &[Role::User],
    ),
    (
        "pencatat",
        "Yusuf Hidayat",
        "199005052014031009",
        "pencatat",
        &[Role::User, Role::Registrar],
    ),
    (
        "arsiparis",
        "Lestari Widodo, S.Hum.",
        "198706062011012010",
        "arsiparis",
        &[Role::User, Role::RecordsOfficer],
    ),
    (
        "auditor",
        "Hendra Gunawan, S.E., Ak.",
        "197812122003121011",
        "auditor",
        &[Role::User, Role::Auditor],
    ),
    ("admin", "Administrator Demo", "", "", &[Role::AgencyAdmin]),
];

/// Demo users who get a signing key and certificate (passphrase [`DEMO_PASSPHRASE`]);
/// the arsiparis signs berita acara of destruction.
pub const DEMO_SIGNERS: &[&str] = &[
    "gubernur",
    "sekda",
    "kadis.kominfo",
    "kabid.aptika",
    "arsiparis",
];

/// What `--demo` found or did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoOutcome {
    /// The demo agency was created now.
    Seeded,
    /// The database already holds the demo agency (and nothing else).
    AlreadyPresent,
}

/// Why `--demo` refuses.
pub const REFUSAL: &str = "--demo refuses to run on a database that already holds real (non-demo) users; use an empty data directory or database";

/// Seeds the demo agency on an empty database; leaves a demo database as it is;
/// refuses a database with real users.
pub async fn seed(store: &Store, master: &[u8; 32]) -> Result<DemoOutcome> {
    let (all, real) = idq::count_users(store).await?;
    if real > 0 {
        return Err(Error::Internal(REFUSAL.into()));
    }
    if all > 0 {
        return Ok(DemoOutcome::AlreadyPresent);
    }
    // One hash serves every demo user: their password is public anyway.
    let phc = crate::crypto::run_kdf(|| password::hash(DEMO_PASSWORD))
        .await
        .map_err(|e| Error::Internal(format!("password task: {e}")))?
        .map_err(Error::Internal)?;

    let mut keys = Vec::new();
    for signer in DEMO_SIGNERS {
        keys.push((
            *signer,
            super::signing::new_sealed_key(DEMO_PASSPHRASE).await?,
        ));
    }

    let mut tx = store.begin_write().await?;
    let now = tx.now_us();
    let agency = uuid::Uuid::new_v4().to_string();
    idq::insert_agency(
        &tx,
        &agency,
        "DEMO-PROV",
        "Pemerintah Provinsi Nusantara (demo)",
        "",
        now,
    )
    .await?;
    super::signing::agency_ca(&mut tx, master, &agency).await?;

    let mut unit_ids = std::collections::HashMap::new();
    for (code, name, parent) in UNITS {
        let id = uuid::Uuid::new_v4().to_string();
        let u = UnitRecord {
            id: id.clone(),
            agency_id: agency.clone(),
            parent_unit_id: (!parent.is_empty())
                .then(|| unit_ids.get(parent).cloned())
                .flatten(),
            code: (*code).to_owned(),
            name: (*name).to_owned(),
            version: 1,
            created_at_us: now,
            updated_at_us: now,
        };
        q::insert_unit(&tx, &u).await?;
        unit_ids.insert(*code, id);
    }
    let mut position_ids = std::collections::HashMap::new();
    for (key, name, unit, superior, head) in POSITIONS {
        let id = uuid::Uuid::new_v4().to_string();
        let p = PositionRecord {
            id: id.clone(),
            agency_id: agency.clone(),
            unit_id: unit_ids.get(unit).cloned().unwrap_or_default(),
            name: (*name).to_owned(),
            superior_position_id: (!superior.is_empty())
                .then(|| position_ids.get(superior).cloned())
                .flatten(),
            is_unit_head: *head,
            version: 1,
            created_at_us: now,
            updated_at_us: now,
        };
        q::insert_position(&tx, &p).await?;
        position_ids.insert(*key, id);
    }
    let mut user_ids = std::collections::HashMap::new();
    for (username, full_name, nip, position, roles) in USERS {
        let u = super::identity::new_user(
            &agency,
            username,
            full_name,
            nip,
            roles,
            phc.clone(),
            false,
            true,
            now,
        );
        idq::insert_user(&tx, &u).await?;
        if let Some(pid) = position_ids.get(position) {
            q::insert_assignment(
                &tx,
                &AssignmentRecord {
                    id: uuid::Uuid::new_v4().to_string(),
                    agency_id: agency.clone(),
                    user_id: u.id.clone(),
                    position_id: pid.clone(),
                    kind: AssignmentKind::Definitive as i16,
                    valid_from_us: now,
                    valid_until_us: None,
                    basis: "demo".into(),
                    version: 1,
                    created_at_us: now,
                },
            )
            .await?;
        }
        user_ids.insert(*username, u.id);
    }
    if let (Some(kadis), Some(tu)) = (position_ids.get("kadis"), user_ids.get("tu.kominfo")) {
        q::add_secretary(&tx, &agency, kadis, tu).await?;
    }
    super::classification::import(&mut tx, &agency, DEMO_CLASSIFICATIONS_CSV, false).await?;
    for (i, (code, text)) in STANDARD_INSTRUCTIONS.iter().enumerate() {
        setup::insert_instruction(&tx, &agency, code, text, i as i32).await?;
    }
    setup::set_numbering(
        &tx,
        &agency,
        DEMO_NUMBER_TEMPLATE,
        DEMO_NUMBERING_SCOPE,
        now,
    )
    .await?;
    // The records office is the Sekretariat Dinas (where the arsiparis sits); the
    // approvers follow the default rule (heads of the records unit and the file's unit).
    super::disposal::configure_in(
        &mut tx,
        &agency,
        &super::disposal::RecordsSettings {
            records_unit_code: "SEKDIS".into(),
            approver_position_ids: Vec::new(),
            record_class_code: "000.5.2".into(),
        },
    )
    .await?;
    let meta = crate::auth::RequestMeta {
        method: "system/demo-seed".into(),
        ..Default::default()
    };
    for (username, (key, sealed)) in keys {
        let Some(user_id) = user_ids.get(username) else {
            continue;
        };
        let Some(position) = USERS
            .iter()
            .find(|u| u.0 == username)
            .and_then(|u| position_ids.get(u.3))
        else {
            continue;
        };
        let principal = crate::auth::Principal {
            user_id: user_id.clone(),
            agency_id: agency.clone(),
            username: username.to_owned(),
            roles: vec![Role::User],
            must_change_password: false,
        };
        super::signing::enroll(
            &mut tx,
            super::context::Ctx::new(&principal, &meta),
            master,
            position,
            &key,
            sealed,
        )
        .await?;
    }
    let mut ev = NewEvent::success("system/demo-seed", "agency", &agency);
    ev.agency_id = agency.clone();
    ev.summary = format!(
        "demo agency seeded: {} units, {} positions, {} users",
        UNITS.len(),
        POSITIONS.len(),
        USERS.len()
    );
    tx.audit(ev);
    tx.commit().await?;
    Ok(DemoOutcome::Seeded)
}
