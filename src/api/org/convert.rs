//! OrgService requests → the domain's inputs. Each conversion destructures
//! its request whole (and the unit, position or user an update carries) and
//! validates it with `Violations`.

use crate::api::mask_paths;
use crate::api::mutate::Mutation;
use crate::clock::from_timestamp;
use crate::domain::org::{NewAssignment, NewUser, PositionChanges, UnitChanges, UserChanges};
use crate::error::{Error, Violations};
use crate::proto::{self as pb, AssignmentKind, Role};

// ---- typed inputs ----

/// An update: the resource, its etag and the changes the mask names.
/// UpdateUnit, UpdatePosition, UpdateUser.
#[derive(Clone, Debug)]
pub struct Edit<C> {
    pub id: String,
    pub etag: String,
    pub changes: C,
}

/// CreateUnit.
#[derive(Clone, Debug)]
pub struct NewUnit {
    pub parent_unit_id: Option<String>,
    pub code: String,
    pub name: String,
}

/// CreatePosition.
#[derive(Clone, Debug)]
pub struct NewPosition {
    pub unit_id: String,
    pub name: String,
    pub superior_position_id: Option<String>,
    pub is_unit_head: bool,
}

/// A page of units or positions, under a parent unit or in a unit (`None`:
/// all). ListUnits, ListPositions.
#[derive(Clone, Debug)]
pub struct UnitPage {
    pub unit_id: Option<String>,
    pub page_size: i32,
    pub page_token: String,
}

/// ListUsers.
#[derive(Clone, Debug)]
pub struct UserQuery {
    pub query: String,
    pub page_size: i32,
    pub page_token: String,
}

/// A user at the version its etag names. DisableUser.
#[derive(Clone, Debug)]
pub struct UserAt {
    pub user_id: String,
    pub etag: String,
}

/// A user named by id. UnlockUser, ResetPassword.
#[derive(Clone, Debug)]
pub struct UserId(pub String);

/// A unit named by id. GetUnit.
#[derive(Clone, Debug)]
pub struct UnitId(pub String);

/// EndAssignment: the assignment and when it ends (`None`: now).
#[derive(Clone, Debug)]
pub struct AssignmentEnd {
    pub assignment_id: String,
    pub end_us: Option<i64>,
}

/// ListAssignments.
#[derive(Clone, Debug)]
pub struct AssignmentQuery {
    pub position_id: Option<String>,
    pub user_id: Option<String>,
    pub include_ended: bool,
    pub page_size: i32,
    pub page_token: String,
}

/// SetSecretary: a user made (or, with `remove`, no longer) secretary of a
/// position.
#[derive(Clone, Debug)]
pub struct Secretary {
    pub position_id: String,
    pub user_id: String,
    pub remove: bool,
}

/// GetOrgChart: the unit the chart starts from (`None`: every root).
#[derive(Clone, Debug)]
pub struct ChartRoot(pub Option<String>);

// ---- validation rules ----

fn unit_code(v: &mut Violations, field: &str, code: &str) {
    v.len(field, code, 1, 32);
    if !code
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b".-_".contains(&b))
    {
        v.add(field, "may contain only A-Z, 0-9, '.', '-' and '_'");
    }
}

fn username(v: &mut Violations, name: &str) {
    v.len("username", name, 3, 64);
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    {
        v.add("username", "may contain only a-z, 0-9, '.', '_' and '-'");
    }
}

fn nip(v: &mut Violations, field: &str, nip: &str) {
    let valid = nip.is_empty() || (nip.len() == 18 && nip.bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        v.add(field, "must be empty or 18 digits");
    }
}

fn email(v: &mut Violations, field: &str, email: &str) {
    if email.len() > 254 || (!email.is_empty() && !email.contains('@')) {
        v.add(field, "must be empty or an e-mail address");
    }
}

fn roles(v: &mut Violations, field: &str, raw: &[i32]) -> Vec<Role> {
    if raw.is_empty() {
        v.add(field, "needs at least one role");
    }
    let mut out = Vec::new();
    for r in raw {
        match Role::try_from(*r) {
            Ok(Role::Unspecified) | Err(_) => v.add(field, format!("{r} is not a role")),
            Ok(role) => out.push(role),
        }
    }
    out
}

/// The paths of an update mask; an empty mask and paths outside `allowed`
/// are violations.
fn mask<'a>(
    v: &mut Violations,
    mask: &'a Option<prost_types::FieldMask>,
    allowed: &[&str],
) -> Vec<&'a str> {
    let paths: Vec<&str> = mask_paths(mask).iter().map(String::as_str).collect();
    if paths.is_empty() {
        v.add("update_mask", "names no field to change");
    }
    for p in &paths {
        if !allowed.contains(p) {
            v.add(
                "update_mask",
                format!("{p:?} cannot be changed (allowed: {})", allowed.join(", ")),
            );
        }
    }
    paths
}

fn opt_id(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

// ---- conversions: units and positions ----

impl TryFrom<&pb::CreateUnitRequest> for Mutation<NewUnit> {
    type Error = Error;

    fn try_from(r: &pb::CreateUnitRequest) -> Result<Self, Error> {
        let pb::CreateUnitRequest {
            parent_unit_id,
            code,
            name,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("parent_unit_id", parent_unit_id, false);
        unit_code(&mut v, "code", code);
        v.len("name", name, 1, 200);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewUnit {
                parent_unit_id: opt_id(parent_unit_id),
                code: code.clone(),
                name: name.clone(),
            },
        })
    }
}

impl TryFrom<&pb::UpdateUnitRequest> for Mutation<Edit<UnitChanges>> {
    type Error = Error;

    fn try_from(r: &pb::UpdateUnitRequest) -> Result<Self, Error> {
        let pb::UpdateUnitRequest {
            unit,
            update_mask,
            etag,
            request_id,
        } = r;
        let none = pb::Unit::default();
        let pb::Unit {
            id,
            parent_unit_id,
            code,
            name,
            // Set by the server; the request's own etag is the one checked.
            etag: _,
            create_time: _,
            update_time: _,
        } = unit.as_ref().unwrap_or(&none);
        let mut v = Violations::new();
        v.uuid("unit.id", id, true);
        v.len("etag", etag, 1, 64);
        let paths = mask(&mut v, update_mask, &["name", "code", "parent_unit_id"]);
        let mut ch = UnitChanges::default();
        for path in &paths {
            match *path {
                "name" => {
                    v.len("unit.name", name, 1, 200);
                    ch.name = Some(name.clone());
                }
                "code" => {
                    unit_code(&mut v, "unit.code", code);
                    ch.code = Some(code.clone());
                }
                "parent_unit_id" => {
                    v.uuid("unit.parent_unit_id", parent_unit_id, false);
                    ch.parent_unit_id = Some(opt_id(parent_unit_id));
                }
                _ => {}
            }
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Edit {
                id: id.clone(),
                etag: etag.clone(),
                changes: ch,
            },
        })
    }
}

impl TryFrom<pb::GetUnitRequest> for UnitId {
    type Error = Error;

    fn try_from(r: pb::GetUnitRequest) -> Result<Self, Error> {
        let pb::GetUnitRequest { unit_id } = r;
        let mut v = Violations::new();
        v.uuid("unit_id", &unit_id, true);
        v.finish()?;
        Ok(UnitId(unit_id))
    }
}

impl TryFrom<pb::ListUnitsRequest> for UnitPage {
    type Error = Error;

    fn try_from(r: pb::ListUnitsRequest) -> Result<Self, Error> {
        let pb::ListUnitsRequest {
            parent_unit_id,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        v.uuid("parent_unit_id", &parent_unit_id, false);
        v.finish()?;
        Ok(UnitPage {
            unit_id: opt_id(&parent_unit_id),
            page_size,
            page_token,
        })
    }
}

impl TryFrom<&pb::CreatePositionRequest> for Mutation<NewPosition> {
    type Error = Error;

    fn try_from(r: &pb::CreatePositionRequest) -> Result<Self, Error> {
        let pb::CreatePositionRequest {
            unit_id,
            name,
            superior_position_id,
            is_unit_head,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("unit_id", unit_id, true);
        v.len("name", name, 1, 200);
        v.uuid("superior_position_id", superior_position_id, false);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewPosition {
                unit_id: unit_id.clone(),
                name: name.clone(),
                superior_position_id: opt_id(superior_position_id),
                is_unit_head: *is_unit_head,
            },
        })
    }
}

impl TryFrom<&pb::UpdatePositionRequest> for Mutation<Edit<PositionChanges>> {
    type Error = Error;

    fn try_from(r: &pb::UpdatePositionRequest) -> Result<Self, Error> {
        let pb::UpdatePositionRequest {
            position,
            update_mask,
            etag,
            request_id,
        } = r;
        let none = pb::Position::default();
        let pb::Position {
            id,
            unit_id,
            name,
            superior_position_id,
            is_unit_head,
            // Set by the server; the request's own etag is the one checked.
            etag: _,
            create_time: _,
            update_time: _,
        } = position.as_ref().unwrap_or(&none);
        let mut v = Violations::new();
        v.uuid("position.id", id, true);
        v.len("etag", etag, 1, 64);
        let paths = mask(
            &mut v,
            update_mask,
            &["name", "unit_id", "superior_position_id", "is_unit_head"],
        );
        let mut ch = PositionChanges::default();
        for path in &paths {
            match *path {
                "name" => {
                    v.len("position.name", name, 1, 200);
                    ch.name = Some(name.clone());
                }
                "unit_id" => {
                    v.uuid("position.unit_id", unit_id, true);
                    ch.unit_id = Some(unit_id.clone());
                }
                "superior_position_id" => {
                    v.uuid("position.superior_position_id", superior_position_id, false);
                    ch.superior_position_id = Some(opt_id(superior_position_id));
                }
                "is_unit_head" => ch.is_unit_head = Some(*is_unit_head),
                _ => {}
            }
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Edit {
                id: id.clone(),
                etag: etag.clone(),
                changes: ch,
            },
        })
    }
}

impl TryFrom<pb::ListPositionsRequest> for UnitPage {
    type Error = Error;

    fn try_from(r: pb::ListPositionsRequest) -> Result<Self, Error> {
        let pb::ListPositionsRequest {
            unit_id,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        v.uuid("unit_id", &unit_id, false);
        v.finish()?;
        Ok(UnitPage {
            unit_id: opt_id(&unit_id),
            page_size,
            page_token,
        })
    }
}

impl TryFrom<pb::GetOrgChartRequest> for ChartRoot {
    type Error = Error;

    fn try_from(r: pb::GetOrgChartRequest) -> Result<Self, Error> {
        let pb::GetOrgChartRequest { root_unit_id } = r;
        let mut v = Violations::new();
        v.uuid("root_unit_id", &root_unit_id, false);
        v.finish()?;
        Ok(ChartRoot(opt_id(&root_unit_id)))
    }
}

// ---- conversions: users ----

impl TryFrom<&pb::CreateUserRequest> for Mutation<NewUser> {
    type Error = Error;

    fn try_from(r: &pb::CreateUserRequest) -> Result<Self, Error> {
        let pb::CreateUserRequest {
            username: name,
            nip: number,
            full_name,
            email: address,
            roles: raw_roles,
            request_id,
        } = r;
        let mut v = Violations::new();
        username(&mut v, name);
        nip(&mut v, "nip", number);
        v.len("full_name", full_name, 1, 200);
        email(&mut v, "email", address);
        let roles = roles(&mut v, "roles", raw_roles);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewUser {
                username: name.clone(),
                nip: number.clone(),
                full_name: full_name.clone(),
                email: address.clone(),
                roles,
            },
        })
    }
}

impl TryFrom<&pb::UpdateUserRequest> for Mutation<Edit<UserChanges>> {
    type Error = Error;

    fn try_from(r: &pb::UpdateUserRequest) -> Result<Self, Error> {
        let pb::UpdateUserRequest {
            user,
            update_mask,
            etag,
            request_id,
        } = r;
        let none = pb::User::default();
        let pb::User {
            id,
            full_name,
            nip: number,
            email: address,
            roles: raw_roles,
            // Not changed by UpdateUser (the username is for good; status,
            // password and lock have their own methods), or set by the
            // server; the request's own etag is the one checked.
            username: _,
            status: _,
            must_change_password: _,
            locked_until: _,
            etag: _,
            create_time: _,
            update_time: _,
        } = user.as_ref().unwrap_or(&none);
        let mut v = Violations::new();
        v.uuid("user.id", id, true);
        v.len("etag", etag, 1, 64);
        let paths = mask(&mut v, update_mask, &["full_name", "nip", "email", "roles"]);
        let mut ch = UserChanges::default();
        for path in &paths {
            match *path {
                "full_name" => {
                    v.len("user.full_name", full_name, 1, 200);
                    ch.full_name = Some(full_name.clone());
                }
                "nip" => {
                    nip(&mut v, "user.nip", number);
                    ch.nip = Some(number.clone());
                }
                "email" => {
                    email(&mut v, "user.email", address);
                    ch.email = Some(address.clone());
                }
                "roles" => ch.roles = Some(roles(&mut v, "user.roles", raw_roles)),
                _ => {}
            }
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Edit {
                id: id.clone(),
                etag: etag.clone(),
                changes: ch,
            },
        })
    }
}

impl TryFrom<pb::ListUsersRequest> for UserQuery {
    type Error = Error;

    fn try_from(r: pb::ListUsersRequest) -> Result<Self, Error> {
        let pb::ListUsersRequest {
            query,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        v.len("query", &query, 0, 100);
        v.finish()?;
        Ok(UserQuery {
            query,
            page_size,
            page_token,
        })
    }
}

impl TryFrom<&pb::DisableUserRequest> for Mutation<UserAt> {
    type Error = Error;

    fn try_from(r: &pb::DisableUserRequest) -> Result<Self, Error> {
        let pb::DisableUserRequest {
            user_id,
            etag,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("user_id", user_id, true);
        v.len("etag", etag, 1, 64);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: UserAt {
                user_id: user_id.clone(),
                etag: etag.clone(),
            },
        })
    }
}

/// A change of one user named by `user_id`.
fn user_id(user_id: &str, request_id: &str) -> Result<Mutation<UserId>, Error> {
    let mut v = Violations::new();
    v.uuid("user_id", user_id, true);
    v.finish()?;
    Ok(Mutation {
        request_id: request_id.to_owned(),
        input: UserId(user_id.to_owned()),
    })
}

impl TryFrom<&pb::UnlockUserRequest> for Mutation<UserId> {
    type Error = Error;

    fn try_from(r: &pb::UnlockUserRequest) -> Result<Self, Error> {
        let pb::UnlockUserRequest {
            user_id: id,
            request_id,
        } = r;
        user_id(id, request_id)
    }
}

impl TryFrom<&pb::ResetPasswordRequest> for Mutation<UserId> {
    type Error = Error;

    fn try_from(r: &pb::ResetPasswordRequest) -> Result<Self, Error> {
        let pb::ResetPasswordRequest {
            user_id: id,
            request_id,
        } = r;
        user_id(id, request_id)
    }
}

// ---- conversions: assignments and secretaries ----

impl TryFrom<&pb::AssignPositionRequest> for Mutation<NewAssignment> {
    type Error = Error;

    fn try_from(r: &pb::AssignPositionRequest) -> Result<Self, Error> {
        let pb::AssignPositionRequest {
            user_id,
            position_id,
            kind,
            valid_from,
            valid_until,
            basis,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("user_id", user_id, true);
        v.uuid("position_id", position_id, true);
        let kind = match AssignmentKind::try_from(*kind) {
            Ok(AssignmentKind::Unspecified) | Err(_) => {
                v.add("kind", "must be DEFINITIVE, PLT or PLH");
                AssignmentKind::Unspecified
            }
            Ok(k) => k,
        };
        let from = valid_from.as_ref().map(from_timestamp);
        let until = valid_until.as_ref().map(from_timestamp);
        if from == Some(None) {
            v.add("valid_from", "is out of range");
        }
        if until == Some(None) {
            v.add("valid_until", "is out of range");
        }
        v.len("basis", basis, 0, 500);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewAssignment {
                user_id: user_id.clone(),
                position_id: position_id.clone(),
                kind,
                valid_from_us: from.flatten(),
                valid_until_us: until.flatten(),
                basis: basis.clone(),
            },
        })
    }
}

impl TryFrom<&pb::EndAssignmentRequest> for Mutation<AssignmentEnd> {
    type Error = Error;

    fn try_from(r: &pb::EndAssignmentRequest) -> Result<Self, Error> {
        let pb::EndAssignmentRequest {
            assignment_id,
            end_time,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("assignment_id", assignment_id, true);
        let end = end_time.as_ref().map(from_timestamp);
        if end == Some(None) {
            v.add("end_time", "is out of range");
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: AssignmentEnd {
                assignment_id: assignment_id.clone(),
                end_us: end.flatten(),
            },
        })
    }
}

impl TryFrom<pb::ListAssignmentsRequest> for AssignmentQuery {
    type Error = Error;

    fn try_from(r: pb::ListAssignmentsRequest) -> Result<Self, Error> {
        let pb::ListAssignmentsRequest {
            position_id,
            user_id,
            include_ended,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        v.uuid("position_id", &position_id, false);
        v.uuid("user_id", &user_id, false);
        v.finish()?;
        Ok(AssignmentQuery {
            position_id: opt_id(&position_id),
            user_id: opt_id(&user_id),
            include_ended,
            page_size,
            page_token,
        })
    }
}

impl TryFrom<&pb::SetSecretaryRequest> for Mutation<Secretary> {
    type Error = Error;

    fn try_from(r: &pb::SetSecretaryRequest) -> Result<Self, Error> {
        let pb::SetSecretaryRequest {
            position_id,
            user_id,
            remove,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("position_id", position_id, true);
        v.uuid("user_id", user_id, true);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Secretary {
                position_id: position_id.clone(),
                user_id: user_id.clone(),
                remove: *remove,
            },
        })
    }
}

/// AbolishPosition: the position and its successor.
#[derive(Clone, Debug)]
pub(super) struct Abolition {
    pub(super) position_id: String,
    pub(super) successor_position_id: String,
}

impl TryFrom<&pb::AbolishPositionRequest> for Mutation<Abolition> {
    type Error = Error;

    fn try_from(r: &pb::AbolishPositionRequest) -> Result<Self, Error> {
        let pb::AbolishPositionRequest {
            position_id,
            successor_position_id,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("position_id", position_id, true);
        v.uuid("successor_position_id", successor_position_id, true);
        if !position_id.is_empty() && position_id == successor_position_id {
            v.add("successor_position_id", "must differ from position_id");
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Abolition {
                position_id: position_id.clone(),
                successor_position_id: successor_position_id.clone(),
            },
        })
    }
}
