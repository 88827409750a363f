//! Organizations (the tenants), users and their memberships with roles.

use serde::Serialize;

use super::passwords;
use super::{PlatformError, Result, ScopeSet, format_time, require_text};
use crate::store::{Store, new_id, now_ms};

/// What a member may do in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including managing other owners.
    Owner,
    /// Everything but removing or demoting owners.
    Admin,
    /// Works with projects and tasks; cannot manage members or API keys.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self> {
        match text {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            other => Err(PlatformError::Internal(format!("unknown role {other}"))),
        }
    }

    /// The scopes a signed-in member of this role holds.
    pub fn scopes(self) -> ScopeSet {
        use super::Scope::*;
        match self {
            Role::Owner | Role::Admin => ScopeSet::all(),
            Role::Member => [
                OrgRead,
                MembersRead,
                ProjectsRead,
                ProjectsWrite,
                TasksRead,
                TasksWrite,
                EventsRead,
                AppsRead,
                InstallationsRead,
            ]
            .into_iter()
            .collect(),
        }
    }
}

/// A tenant of the product.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, serde::Deserialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    /// URL-safe unique name derived from `name`.
    pub slug: String,
    #[serde(serialize_with = "super::orgs::ser_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// A person who can sign in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, serde::Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    #[serde(serialize_with = "super::orgs::ser_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// A user's place in an organization.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user: User,
    pub role: Role,
}

pub(crate) fn ser_time<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*ms))
}

/// Turns a display name into a slug: lowercase letters, digits and single dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() { "org".into() } else { slug }
}

fn check_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(PlatformError::Invalid(format!(
            "`{email}` is not an email address"
        )))
    }
}

/// Checks a new password is long enough to be worth hashing.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 10 {
        return Err(PlatformError::Invalid(
            "the password must be at least 10 characters long".into(),
        ));
    }
    Ok(())
}

/// Creates an organization and its first owner in one transaction.
///
/// The email must not belong to an existing user (409 otherwise).
pub async fn create_with_owner(
    store: &Store,
    org_name: &str,
    owner_email: &str,
    owner_password: &str,
) -> Result<(Organization, User)> {
    let org_name = require_text("name", org_name, 100)?;
    let email = check_email(owner_email)?;
    check_password(owner_password)?;
    let password_hash = passwords::hash(owner_password).await?;
    let now = now_ms();

    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let taken: Option<(String,)> = crate::store::query_as("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(PlatformError::Conflict(format!(
            "a user with email {email} already exists"
        )));
    }
    let slug = unique_slug(&mut tx, &slugify(&org_name)).await?;
    let org = Organization {
        id: new_id("org"),
        name: org_name,
        slug,
        created_at: now,
    };
    crate::store::query("INSERT INTO organizations (id, name, slug, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&org.id)
        .bind(&org.name)
        .bind(&org.slug)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let user = insert_user(&mut tx, email, &password_hash).await?;
    insert_membership(&mut tx, &org.id, &user.id, Role::Owner).await?;
    tx.commit().await?;
    Ok((org, user))
}

/// Inserts a user whose display name starts as the local part of their email.
async fn insert_user(conn: &mut crate::store::Conn, email: String, password_hash: &str) -> Result<User> {
    let user = User {
        id: new_id("usr"),
        name: email.split('@').next().unwrap_or_default().to_owned(),
        email,
        created_at: now_ms(),
    };
    crate::store::query(
        "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(password_hash)
    .bind(user.created_at)
    .execute(conn)
    .await?;
    Ok(user)
}

async fn unique_slug(conn: &mut crate::store::Conn, base: &str) -> Result<String> {
    let mut candidate = base.to_owned();
    for n in 2.. {
        let exists: Option<(String,)> =
            crate::store::query_as("SELECT id FROM organizations WHERE slug = $1")
                .bind(&candidate)
                .fetch_optional(&mut *conn)
                .await?;
        if exists.is_none() {
            break;
        }
        candidate = format!("{base}-{n}");
    }
    Ok(candidate)
}

async fn insert_membership(
    conn: &mut crate::store::Conn,
    org_id: &str,
    user_id: &str,
    role: Role,
) -> Result<()> {
    crate::store::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(store: &Store, org_id: &str) -> Result<Organization> {
    crate::store::query_as("SELECT id, name, slug, created_at FROM organizations WHERE id = $1")
        .bind(org_id)
        .fetch_optional(store.reader())
        .await?
        .ok_or(PlatformError::NotFound("organization"))
}

/// Finds an organization by its slug, for scripts that name it.
pub async fn find_by_slug(store: &Store, slug: &str) -> Result<Option<Organization>> {
    Ok(
        crate::store::query_as("SELECT id, name, slug, created_at FROM organizations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(store.reader())
            .await?,
    )
}

#[derive(serde::Deserialize)]
struct MemberRow {
    id: String,
    email: String,
    name: String,
    created_at: i64,
    role: String,
}

impl MemberRow {
    fn into_member(self) -> Result<Member> {
        Ok(Member {
            role: Role::parse(&self.role)?,
            user: User {
                id: self.id,
                email: self.email,
                name: self.name,
                created_at: self.created_at,
            },
        })
    }
}

const MEMBER_SELECT: &str = "SELECT u.id, u.email, u.name, u.created_at, m.role \
     FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1";

/// Everyone in the organization, oldest member first.
pub async fn members(store: &Store, org_id: &str) -> Result<Vec<Member>> {
    let rows: Vec<MemberRow> =
        crate::store::query_as(&format!("{MEMBER_SELECT} ORDER BY m.created_at, u.id"))
            .bind(org_id)
            .fetch_all(store.reader())
            .await?;
    rows.into_iter().map(MemberRow::into_member).collect()
}

/// One member of the organization, or `NotFound` if the user does not belong to it.
pub async fn member(store: &Store, org_id: &str, user_id: &str) -> Result<Member> {
    let row: Option<MemberRow> = crate::store::query_as(&format!("{MEMBER_SELECT} AND u.id = $2"))
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(store.reader())
        .await?;
    row.ok_or(PlatformError::NotFound("member"))?.into_member()
}

/// Adds a person to the organization: an existing user by email, or a new user with `password`.
pub async fn add_member(
    store: &Store,
    org_id: &str,
    email: &str,
    role: Role,
    password: Option<&str>,
) -> Result<Member> {
    let email = check_email(email)?;
    let existing: Option<(String,)> = crate::store::query_as("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(store.reader())
        .await?;
    let new_hash = match (&existing, password) {
        (None, Some(password)) => {
            check_password(password)?;
            Some(passwords::hash(password).await?)
        }
        (None, None) => {
            return Err(PlatformError::Invalid(format!(
                "no user has the email {email}; give a `password` to create one"
            )));
        }
        (Some(_), _) => None,
    };
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let user_id = match existing {
        Some((id,)) => id,
        None => {
            insert_user(&mut tx, email.clone(), &new_hash.unwrap_or_default())
                .await?
                .id
        }
    };
    let already: Option<(String,)> =
        crate::store::query_as("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(&user_id)
            .fetch_optional(&mut *tx)
            .await?;
    if already.is_some() {
        return Err(PlatformError::Conflict(format!(
            "{email} is already a member of this organization"
        )));
    }
    insert_membership(&mut tx, org_id, &user_id, role).await?;
    tx.commit().await?;
    member(store, org_id, &user_id).await
}

/// Changes a member's role. `acting_role` is the role of whoever asks: only an owner may make
/// or unmake owners, and the last owner cannot be demoted.
pub async fn set_role(
    store: &Store,
    org_id: &str,
    user_id: &str,
    role: Role,
    acting_role: Option<Role>,
) -> Result<Member> {
    let current = member(store, org_id, user_id).await?;
    guard_owner_change(store, org_id, &current, Some(role), acting_role).await?;
    crate::store::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3")
        .bind(role.as_str())
        .bind(org_id)
        .bind(user_id)
        .execute(store.writer())
        .await?;
    member(store, org_id, user_id).await
}

/// Removes a member (the user account stays). The last owner cannot be removed.
pub async fn remove_member(
    store: &Store,
    org_id: &str,
    user_id: &str,
    acting_role: Option<Role>,
) -> Result<()> {
    let current = member(store, org_id, user_id).await?;
    guard_owner_change(store, org_id, &current, None, acting_role).await?;
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    crate::store::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    // Their web sessions in this organization end with their membership.
    crate::store::query(
        "UPDATE sessions SET revoked_at = $1 WHERE org_id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(org_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn guard_owner_change(
    store: &Store,
    org_id: &str,
    current: &Member,
    new_role: Option<Role>,
    acting_role: Option<Role>,
) -> Result<()> {
    let touches_owner = current.role == Role::Owner || new_role == Some(Role::Owner);
    // API keys act for the organization (acting_role None) and may not touch owners either.
    if touches_owner && acting_role != Some(Role::Owner) {
        return Err(PlatformError::Conflict(
            "only an owner can add, demote or remove owners".into(),
        ));
    }
    if current.role == Role::Owner && new_role != Some(Role::Owner) {
        let (owners,): (i64,) =
            crate::store::query_as("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'owner'")
                .bind(org_id)
                .fetch_one(store.reader())
                .await?;
        if owners <= 1 {
            return Err(PlatformError::Conflict(
                "an organization must keep at least one owner; make someone else owner first".into(),
            ));
        }
    }
    Ok(())
}

/// Puts the organization on a rate-limit plan (a name from the configuration's plans).
pub async fn set_plan(store: &Store, org_id: &str, plan: &str) -> Result<()> {
    crate::store::query("UPDATE organizations SET plan = $1 WHERE id = $2")
        .bind(plan)
        .bind(org_id)
        .execute(store.writer())
        .await?;
    Ok(())
}

/// The organizations a user belongs to, with their role in each.
pub async fn memberships_of(store: &Store, user_id: &str) -> Result<Vec<(Organization, Role)>> {
    let rows: Vec<(String, String, String, i64, String)> = crate::store::query_as(
        "SELECT o.id, o.name, o.slug, o.created_at, m.role FROM memberships m \
         JOIN organizations o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY m.created_at",
    )
    .bind(user_id)
    .fetch_all(store.reader())
    .await?;
    rows.into_iter()
        .map(|(id, name, slug, created_at, role)| {
            Ok((
                Organization {
                    id,
                    name,
                    slug,
                    created_at,
                },
                Role::parse(&role)?,
            ))
        })
        .collect()
}

/// The organization's rate-limit plan (`None`: no such organization).
pub async fn plan_of(store: &Store, org_id: &str) -> Result<Option<String>> {
    let row: Option<(String,)> = crate::store::query_as("SELECT plan FROM organizations WHERE id = $1")
        .bind(org_id)
        .fetch_optional(store.reader())
        .await?;
    Ok(row.map(|(plan,)| plan))
}

/// Makes a user a platform reviewer (`bazaar reviewer add EMAIL`).
pub async fn make_reviewer(store: &Store, email: &str) -> Result<String> {
    let user: Option<(String,)> = crate::store::query_as("SELECT id FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(store.reader())
        .await?;
    let (user_id,) = user.ok_or(PlatformError::NotFound("user"))?;
    crate::store::query("INSERT INTO platform_reviewers (user_id, created_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING")
        .bind(&user_id)
        .bind(now_ms())
        .execute(store.writer())
        .await?;
    Ok(user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("Acme Corp."), "acme-corp");
        assert_eq!(slugify("  Über -- Team  "), "ber-team");
        assert_eq!(slugify("!!!"), "org");
    }

    #[test]
    fn members_cannot_manage_keys_or_people() {
        use super::super::Scope;
        let member = Role::Member.scopes();
        assert!(member.contains(Scope::TasksWrite));
        assert!(!member.contains(Scope::KeysWrite));
        assert!(!member.contains(Scope::MembersWrite));
        assert!(Role::Admin.scopes().contains(Scope::KeysWrite));
    }
}
