//! Letters: the letter row, its versions, route steps, addressees,
//! comments, folders, number counters, signature and attachments.

pub mod letter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub direction: crate::domain::lifecycle::Direction,
        pub state: crate::domain::lifecycle::LetterState,
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
        pub kind: crate::domain::lifecycle::StepKind,
        pub decision: crate::domain::lifecycle::Decision,
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
        pub kind: crate::domain::lifecycle::AddresseeKind,
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
        pub folder: crate::domain::lifecycle::Folder,
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
