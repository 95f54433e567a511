//! The agency and its people: units, positions, assignments, secretaries,
//! users and their sessions; its settings, codes, certificate authority and
//! signing keys; the audit chain; remembered responses.

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
