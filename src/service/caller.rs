//! Who is asking: the tenant and roles of a request, from the headers Vitrage's noauth mode reads.
//!
//! python-vitrageclient's `vitrage-noauth` plugin sends `X-User-Id`, `X-Project-Id` and `X-Roles`
//! (default `admin`). Vitrage scopes every read to `X-Project-Id` and lets the `admin` role (any
//! case, `X-Roles` split on commas) ask for `all_tenants`.
//!
//! Vitrage's own context flag `is_admin`, which widens a tenant's view to vertices that belong to
//! no project, is `X-User-Name == "admin"`; the noauth plugin never sends that header, so with
//! Vitrage in noauth mode nobody is an admin and a host (which has no project) cannot even be
//! shown. causeway also counts the `admin` role, which is what the client's `--roles` option is
//! for.

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::convert::Infallible;

/// The caller of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// `X-Project-Id`, the tenant; `None` when absent.
    pub project_id: Option<String>,
    /// Whether the caller sees, besides its own project, what belongs to no project
    /// (Vitrage's context `is_admin`).
    pub is_admin: bool,
    /// Whether the caller may ask for `all_tenants` (the `admin` role in `X-Roles`).
    pub may_see_all_tenants: bool,
}

impl Caller {
    /// Reads the caller from request headers.
    pub fn from_headers(headers: &HeaderMap) -> Caller {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let has_admin_role = text("x-roles")
            .is_some_and(|roles| roles.split(',').any(|r| r.eq_ignore_ascii_case("admin")));
        Caller {
            project_id: text("x-project-id").map(str::to_owned),
            is_admin: has_admin_role || text("x-user-name") == Some("admin"),
            may_see_all_tenants: has_admin_role,
        }
    }

    /// An admin of `project`, as the CLI's default `--roles admin` makes one.
    pub fn admin(project: &str) -> Caller {
        Caller { project_id: Some(project.to_owned()), is_admin: true, may_see_all_tenants: true }
    }

    /// A member of `project` without the admin role.
    pub fn member(project: &str) -> Caller {
        Caller { project_id: Some(project.to_owned()), is_admin: false, may_see_all_tenants: false }
    }

    /// Vitrage's `*:all_tenants` policy: 403 `Authorization Failed` unless the caller has the
    /// admin role. Returns `all_tenants` back for chaining.
    pub fn authorize(&self, all_tenants: bool) -> Result<bool, ApiError> {
        if all_tenants && !self.may_see_all_tenants {
            return Err(ApiError::forbidden());
        }
        Ok(all_tenants)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, Infallible> {
        Ok(Caller::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn reads_noauth_headers() {
        let admin = Caller::from_headers(&headers(&[
            ("x-user-id", "admin"),
            ("x-project-id", "p1"),
            ("x-roles", "member,Admin"),
        ]));
        assert_eq!(admin, Caller::admin("p1"));
        let member =
            Caller::from_headers(&headers(&[("x-project-id", "p2"), ("x-roles", "member")]));
        assert_eq!(member, Caller::member("p2"));
        let named = Caller::from_headers(&headers(&[("x-user-name", "admin")]));
        assert!(named.is_admin && !named.may_see_all_tenants && named.project_id.is_none());
        assert_eq!(Caller::from_headers(&HeaderMap::new()), Caller::default());
    }

    #[test]
    fn all_tenants_needs_the_admin_role() {
        assert_eq!(Caller::member("p").authorize(true), Err(ApiError::forbidden()));
        assert_eq!(Caller::member("p").authorize(false), Ok(false));
        assert_eq!(Caller::admin("p").authorize(true), Ok(true));
    }
}
