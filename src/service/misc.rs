//! The small fixed answers: versions, status, health, service list, template versions.

use super::error::ApiError;
use super::timestamp::Timestamp;
use super::view::View;
use serde_json::{Value, json};

/// This process as `GET /v1/service/` lists it (Vitrage lists its coordination group members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The member name.
    pub name: String,
    /// The host it runs on.
    pub hostname: String,
    /// Its process id.
    pub process: u32,
    /// When it started, ISO 8601 to the second.
    pub created: String,
}

impl ServiceInfo {
    /// This process, started now.
    pub fn current() -> ServiceInfo {
        let hostname = ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .find_map(|path| std::fs::read_to_string(path).ok())
            .map(|text| text.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        ServiceInfo {
            name: "causeway".to_owned(),
            hostname,
            process: std::process::id(),
            created: Timestamp::now().iso_seconds(),
        }
    }
}

/// `GET /`: the API versions, with a link to `/v1/` under `base_url` (scheme and host the client
/// used).
pub fn versions(base_url: &str) -> Value {
    json!({"versions": [{
        "status": "CURRENT",
        "links": [{"rel": "self", "href": format!("{}/v1/", base_url.trim_end_matches('/'))}],
        "id": "v1.0",
        "updated": "2015-11-29",
    }]})
}

/// `GET /v1/status/`: `{"reason": "OK"}` once the evaluation task has published a view, 503
/// before; causeway adds `datasources`, each one's health, once any has reported.
pub fn status(view: &View, datasources: Value) -> Result<Value, ApiError> {
    if !view.is_ready() {
        return Err(ApiError::not_ready());
    }
    let empty = datasources.as_object().is_none_or(|m| m.is_empty());
    if empty {
        return Ok(json!({"reason": "OK"}));
    }
    Ok(json!({"reason": "OK", "datasources": datasources}))
}

/// `GET /healthcheck/`: oslo.middleware's JSON answer; the process is up.
pub fn healthcheck() -> Value {
    json!({"detailed": false, "reasons": []})
}

/// `GET /v1/service/`: one entry, this process.
pub fn services(info: &ServiceInfo) -> Value {
    json!([{
        "name": info.name,
        "hostname": info.hostname,
        "process": info.process,
        "created": info.created,
    }])
}

/// `GET /v1/template/versions`: the template format versions Vitrage 15 accepts.
pub fn template_versions() -> Value {
    json!([
        {"version": "v1", "status": "SUPPORTED"},
        {"version": "v2", "status": "SUPPORTED"},
        {"version": "v3", "status": "CURRENT"},
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_answers() {
        assert_eq!(
            versions("http://h:8999/")["versions"][0]["links"][0]["href"],
            json!("http://h:8999/v1/")
        );
        assert_eq!(status(&View::empty(), json!({})), Err(ApiError::not_ready()));
        let ready = View::new(1, vec![], vec![]).expect("empty view");
        assert_eq!(status(&ready, json!({})), Ok(json!({"reason": "OK"})));
        assert_eq!(template_versions()[2], json!({"version": "v3", "status": "CURRENT"}));
        let info = ServiceInfo::current();
        assert_eq!(info.process, std::process::id());
        assert_eq!(services(&info)[0]["name"], json!("causeway"));
        assert_eq!(healthcheck()["reasons"], json!([]));
    }
}
