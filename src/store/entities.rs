//! sea-orm entities. They never leave the `store` module: queries convert them
//! into the plain records of `store::records`.

pub mod agency {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agency")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub code: String,
        pub name: String,
        pub created_at_us: i64,
        /// Users of the agency log in as `name@login_domain`; empty: bare names.
        pub login_domain: String,
        /// The agency's time zone, an IANA name (`Asia/Jakarta` by default).
        pub time_zone: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_event")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        pub event_time_us: i64,
        pub agency_id: String,
        pub actor_user_id: String,
        pub actor_position_id: String,
        pub action: String,
        pub resource_type: String,
        pub resource_id: String,
        pub outcome: i16,
        pub reason: String,
        pub request_id: String,
        pub client_address: String,
        #[sea_orm(column_type = "Text")]
        pub summary: String,
        pub prev_hash: String,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_head {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_head")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub last_seq: i64,
        pub last_hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod app_user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "app_user")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub username: String,
        pub nip: String,
        pub full_name: String,
        pub email: String,
        pub roles: String,
        pub password_hash: String,
        pub must_change_password: bool,
        pub disabled: bool,
        pub failed_logins: i32,
        pub locked_until_us: i64,
        pub is_demo: bool,
        pub version: i64,
        pub created_at_us: i64,
        pub updated_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refresh_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_token")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub family_id: String,
        pub user_id: String,
        pub expires_at_us: i64,
        pub used_at_us: Option<i64>,
        pub revoked_at_us: Option<i64>,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod unit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unit")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub parent_unit_id: Option<String>,
        pub code: String,
        pub name: String,
        pub version: i64,
        pub created_at_us: i64,
        pub updated_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod position {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "position")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub unit_id: String,
        pub name: String,
        pub superior_position_id: Option<String>,
        pub is_unit_head: bool,
        pub version: i64,
        pub created_at_us: i64,
        pub updated_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod assignment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "assignment")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub user_id: String,
        pub position_id: String,
        pub kind: i16,
        pub valid_from_us: i64,
        pub valid_until_us: Option<i64>,
        pub basis: String,
        pub version: i64,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod secretary {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "secretary")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub position_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        pub agency_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod idempotency_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_key")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        pub method: String,
        pub request_hash: String,
        pub response: Vec<u8>,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agency_setting {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agency_setting")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: String,
        pub number_template: String,
        pub numbering_scope: i16,
        pub updated_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod classification {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "classification")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub title: String,
        pub parent_code: String,
        pub active_years: i32,
        pub inactive_years: i32,
        pub final_disposition: i16,
        pub default_security_level: i16,
        pub retention_inherited: bool,
        pub updated_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod instruction {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "instruction")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub text: String,
        pub sort_order: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agency_ca {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agency_ca")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: String,
        pub cert_der: Vec<u8>,
        pub sealed_key: Vec<u8>,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod signing_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_key")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub serial: String,
        pub agency_id: String,
        pub user_id: String,
        pub position_id: String,
        pub algorithm: i16,
        pub cert_der: Vec<u8>,
        pub sealed_key: Vec<u8>,
        pub not_before_us: i64,
        pub not_after_us: i64,
        pub revoked_at_us: Option<i64>,
        pub revoke_reason: String,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod letter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub direction: i16,
        pub state: i16,
        pub letter_type: i16,
        pub subject: String,
        #[sea_orm(column_type = "Text")]
        pub body: String,
        pub body_sha256: String,
        pub security_level: i16,
        pub urgency: i16,
        pub classification_code: String,
        pub drafting_position_id: String,
        pub drafted_by_user_id: String,
        pub drafted_by_position_id: String,
        pub current_step: i32,
        pub version: i32,
        pub number: String,
        pub sign_time_us: Option<i64>,
        pub signer_user_id: String,
        pub signer_position_id: String,
        pub verification_code: Option<String>,
        pub reference_letter_id: String,
        #[sea_orm(column_type = "Text")]
        pub incoming: String,
        pub revision: i64,
        pub created_at_us: i64,
        pub updated_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod letter_version {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter_version")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub letter_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub subject: String,
        #[sea_orm(column_type = "Text")]
        pub body: String,
        pub body_sha256: String,
        pub author_user_id: String,
        pub author_position_id: String,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod letter_step {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter_step")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub letter_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub idx: i32,
        pub position_id: String,
        pub kind: i16,
        pub decision: i16,
        pub decided_by_user_id: String,
        pub decided_by_position_id: String,
        pub decided_by_assignment_kind: i16,
        pub decide_time_us: Option<i64>,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod letter_addressee {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter_addressee")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub letter_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: i16,
        #[sea_orm(primary_key, auto_increment = false)]
        pub idx: i32,
        pub position_id: String,
        #[sea_orm(column_type = "Text")]
        pub external: String,
        pub display_name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod letter_comment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter_comment")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub letter_id: String,
        pub version: i32,
        #[sea_orm(column_type = "Text")]
        pub body: String,
        pub author_user_id: String,
        pub author_position_id: String,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod letter_box {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter_box")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub position_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub folder: i16,
        #[sea_orm(primary_key, auto_increment = false)]
        pub letter_id: String,
        pub agency_id: String,
        pub sort_us: i64,
        pub read_at_us: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::letter::Entity",
            from = "Column::LetterId",
            to = "super::letter::Column::Id"
        )]
        Letter,
    }

    impl Related<super::letter::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Letter.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod number_counter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "number_counter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope_key: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        pub last_seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod letter_signature {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter_signature")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub letter_id: String,
        pub manifest: Vec<u8>,
        pub signature: Vec<u8>,
        pub cert_serial: String,
        pub verification_code: String,
        pub manifest_sha256: String,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attachment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attachment")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub letter_id: String,
        pub agency_id: String,
        pub file_name: String,
        pub media_type: String,
        pub size_bytes: i64,
        pub sha256: String,
        pub is_scan: bool,
        pub uploaded_by_user_id: String,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod disposition {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disposition")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub letter_id: String,
        pub parent_id: String,
        pub sender_position_id: String,
        pub sent_by_user_id: String,
        pub sent_by_assignment_kind: i16,
        pub drafted_by_user_id: String,
        pub state: i16,
        pub instruction_codes: String,
        #[sea_orm(column_type = "Text")]
        pub note: String,
        pub due_us: Option<i64>,
        pub urgency: i16,
        pub revision: i64,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// Its recipients (for reading a disposition with them in one
        /// statement; the schema has no foreign key for it).
        #[sea_orm(has_many = "super::disposition_recipient::Entity")]
        Recipient,
    }

    impl Related<super::disposition_recipient::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Recipient.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod disposition_recipient {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disposition_recipient")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub disposition_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position_id: String,
        pub agency_id: String,
        pub status: i16,
        pub read_at_us: Option<i64>,
        pub done_at_us: Option<i64>,
        pub due_us: Option<i64>,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The disposition it belongs to.
        #[sea_orm(
            belongs_to = "super::disposition::Entity",
            from = "Column::DispositionId",
            to = "super::disposition::Column::Id"
        )]
        Disposition,
    }

    impl Related<super::disposition::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Disposition.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod disposition_response {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disposition_response")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub disposition_id: String,
        pub position_id: String,
        pub user_id: String,
        pub assignment_kind: i16,
        #[sea_orm(column_type = "Text")]
        pub note: String,
        pub status: i16,
        pub attachment_ids: String,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod case_file {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_file")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub classification_code: String,
        pub title: String,
        #[sea_orm(column_type = "Text")]
        pub description: String,
        pub unit_id: String,
        pub state: i16,
        pub open_at_us: i64,
        pub close_at_us: Option<i64>,
        pub active_until_us: Option<i64>,
        pub inactive_until_us: Option<i64>,
        pub final_disposition: i16,
        pub revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod case_file_letter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_file_letter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub letter_id: String,
        pub case_file_id: String,
        pub agency_id: String,
        pub filed_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod legal_hold {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "legal_hold")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub case_file_id: String,
        pub letter_id: String,
        pub reason: String,
        pub authority: String,
        pub placed_by_user_id: String,
        pub placed_at_us: i64,
        pub released_by_user_id: String,
        pub released_at_us: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod records_setting {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "records_setting")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: String,
        pub records_unit_id: String,
        pub approver_position_ids: String,
        pub record_class_code: String,
        pub updated_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
pub mod disposal_proposal {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disposal_proposal")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub kind: i16,
        pub state: i16,
        pub required_position_ids: String,
        pub proposed_by_user_id: String,
        pub proposed_by_position_id: String,
        pub propose_at_us: i64,
        pub executed_by_user_id: String,
        pub execute_at_us: Option<i64>,
        pub berita_acara_letter_id: String,
        pub revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
pub mod disposal_item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disposal_item")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub proposal_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_file_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
pub mod disposal_approval {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disposal_approval")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub proposal_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position_id: String,
        pub user_id: String,
        pub approve_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
pub mod destroyed_item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "destroyed_item")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub letter_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub item_id: String,
        pub proposal_id: String,
        pub sha256: String,
        pub size_bytes: i64,
        pub destroyed_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
pub mod case_file_export {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_file_export")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub case_file_id: String,
        pub sha256: String,
        pub size_bytes: i64,
        pub exported_by_user_id: String,
        pub exported_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
