//! The entity graph page: its HTML, CSS, script and the vendored Cytoscape.js, embedded in the
//! binary so that `causeway serve` needs no network, CDN or file beside it.
//!
//! `GET /` is both Vitrage's version discovery (python-vitrageclient asks for JSON) and the
//! page (a browser asks for HTML): the `Accept` header decides. The page and its assets hold no
//! data, so they are served without the auth token; every call the page makes for data sends
//! `X-Auth-Token` like any other client.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::error::ApiError;

/// The path prefix of the page's assets; requests under it pass the token check.
pub const ASSET_PREFIX: &str = "/web/";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// Vendored files never change within a build; the page's own are revalidated.
    immutable: bool,
}

const PAGE: &str = include_str!("../../web/index.html");

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/app.js"),
        immutable: false,
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../web/app.css"),
        immutable: false,
    },
    Asset {
        name: "vendor/cytoscape.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/vendor/cytoscape.min.js"),
        immutable: true,
    },
    Asset {
        name: "vendor/cytoscape-dagre.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/vendor/cytoscape-dagre.min.js"),
        immutable: true,
    },
    Asset {
        name: "vendor/cytoscape.LICENSE",
        content_type: "text/plain; charset=utf-8",
        body: include_str!("../../web/vendor/cytoscape.LICENSE"),
        immutable: true,
    },
    Asset {
        name: "vendor/cytoscape-dagre.LICENSE",
        content_type: "text/plain; charset=utf-8",
        body: include_str!("../../web/vendor/cytoscape-dagre.LICENSE"),
        immutable: true,
    },
];

/// The asset routes. `GET /` is registered by the Vitrage routes and answers through [`root`].
pub fn routes() -> Router<AppState> {
    Router::new().route("/web/{*file}", get(asset))
}

/// `GET /`: the page for a browser, Vitrage's version list for everyone else.
pub async fn root(headers: HeaderMap) -> Response {
    if wants_html(&headers) {
        return with_type(PAGE, "text/html; charset=utf-8", false);
    }
    super::routes::versions(headers).await.into_response()
}

/// Whether the client asks for HTML: browsers list `text/html` first, API clients never do.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|t| t.trim().starts_with("text/html")))
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(a) => with_type(a.body, a.content_type, a.immutable),
        None => ApiError::not_found(format!("No asset {file}")).into_response(),
    }
}

fn with_type(body: &'static str, content_type: &'static str, immutable: bool) -> Response {
    let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn a_browser_gets_the_page_and_an_api_client_the_versions() {
        assert!(wants_html(&accept("text/html,application/xhtml+xml,*/*;q=0.8")));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&HeaderMap::new()));
    }

    #[test]
    fn every_asset_the_page_names_is_embedded() {
        for name in
            ["app.js", "app.css", "vendor/cytoscape.min.js", "vendor/cytoscape-dagre.min.js"]
        {
            let path = format!("{ASSET_PREFIX}{name}");
            assert!(PAGE.contains(&path), "index.html loads {path}");
            assert!(ASSETS.iter().any(|a| a.name == name && !a.body.is_empty()), "{name}");
        }
    }
}
