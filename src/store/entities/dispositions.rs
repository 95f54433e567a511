//! Dispositions: the disposition, its recipients and their responses.

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
        pub state: crate::domain::lifecycle::DispositionState,
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
        pub status: crate::domain::lifecycle::RecipientStatus,
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
        pub status: crate::domain::lifecycle::RecipientStatus,
        pub attachment_ids: String,
        pub created_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
