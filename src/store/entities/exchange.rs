//! Inter-agency exchange: identities, peers, consignments out and in, and
//! the successors of abolished positions.

pub mod exchange_identity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "exchange_identity")]
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

pub mod exchange_peer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "exchange_peer")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub name: String,
        pub endpoint: String,
        pub ca_cert_der: Vec<u8>,
        pub added_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod exchange_out {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "exchange_out")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub agency_id: String,
        pub letter_id: String,
        pub addressee_kind: crate::domain::lifecycle::AddresseeKind,
        pub addressee_idx: i32,
        pub peer_code: String,
        pub position_id: String,
        pub envelope: Vec<u8>,
        pub envelope_signature: Vec<u8>,
        pub envelope_sha256: String,
        pub status: crate::domain::lifecycle::DispatchStatus,
        pub attempts: i32,
        pub next_attempt_us: i64,
        pub lease_until_us: i64,
        #[sea_orm(column_type = "Text")]
        pub last_error: String,
        pub receipt: Option<Vec<u8>>,
        pub receipt_signature: Option<Vec<u8>>,
        pub outcome: Option<Vec<u8>>,
        pub outcome_signature: Option<Vec<u8>>,
        pub refusal: i16,
        pub registration_number: String,
        pub created_at_us: i64,
        pub updated_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod exchange_in {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "exchange_in")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub sender_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub consignment_id: String,
        pub envelope_sha256: String,
        pub letter_id: String,
        pub receipt: Vec<u8>,
        pub receipt_signature: Vec<u8>,
        pub outcome: Option<Vec<u8>>,
        pub outcome_signature: Option<Vec<u8>>,
        pub outcome_seq: i64,
        pub outcome_acked: bool,
        pub outcome_attempts: i32,
        pub outcome_next_attempt_us: i64,
        pub outcome_lease_until_us: i64,
        pub envelope: Option<Vec<u8>>,
        pub manifest: Option<Vec<u8>>,
        pub manifest_signature: Option<Vec<u8>>,
        pub signer_ca_der: Option<Vec<u8>>,
        pub received_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod position_successor {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "position_successor")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub position_id: String,
        pub agency_id: String,
        pub successor_id: String,
        pub abolished_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod exchange_setting {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "exchange_setting")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: String,
        pub registrar_check: bool,
        pub updated_at_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
