//! Records: case files and their letters, legal holds, retention settings,
//! disposal proposals, approvals and destroyed items, archival exports.

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
        pub state: crate::domain::lifecycle::CaseFileState,
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
        pub state: crate::domain::lifecycle::ProposalState,
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
