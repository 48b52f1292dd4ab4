//! The current set of templates, as the API lists them. Template changes are also logged in
//! the event log by the service; this table is what `GET /v1/template` shows.

use super::{Json, Reader, Store, StoreError, Timestamp, Txn, execute, query_row, query_rows};
use rusqlite::{Row, params};

text_enum! {
    /// A template's status, as Vitrage reports it.
    TemplateStatus {
        /// Accepted, being evaluated over the graph.
        Loading = "LOADING",
        /// Loaded: its scenarios take part in evaluation.
        Active = "ACTIVE",
        /// Refused (validation or compilation failed, a duplicate name); `status_details` says
        /// why. It takes no part in evaluation.
        Error = "ERROR",
    }
}

/// A template as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTemplate {
    /// Its id.
    pub uuid: String,
    /// `metadata.name` after parameter resolution.
    pub name: String,
    /// The file name it was uploaded as.
    pub file_name: String,
    /// `standard`, `definition` or `equivalence`.
    pub template_type: String,
    /// Its status.
    pub status: TemplateStatus,
    /// The status's explanation (`Template validation is OK`, an error message).
    pub status_details: String,
    /// The template's YAML text as uploaded.
    pub yaml: String,
    /// The parameters it was added with.
    pub params: Option<serde_json::Value>,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Store {
    /// Adds or replaces a template; see [`Txn::put_template`].
    pub fn put_template(&mut self, template: &StoredTemplate) -> Result<(), StoreError> {
        self.write(|txn| txn.put_template(template))
    }

    /// Deletes a template; see [`Txn::delete_template`].
    pub fn delete_template(&mut self, uuid: &str) -> Result<bool, StoreError> {
        self.write(|txn| txn.delete_template(uuid))
    }
}

impl Txn<'_> {
    /// Adds the template, or replaces the one with its uuid, keeping that one's `created_at`.
    pub fn put_template(&self, t: &StoredTemplate) -> Result<(), StoreError> {
        let sql = "INSERT INTO templates (uuid, name, file_name, template_type, status,
                status_details, yaml, params, created_at, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            ON CONFLICT (uuid) DO UPDATE SET name = excluded.name,
                file_name = excluded.file_name, template_type = excluded.template_type,
                status = excluded.status, status_details = excluded.status_details,
                yaml = excluded.yaml, params = excluded.params, updated_at = excluded.updated_at";
        let params = params![
            t.uuid,
            t.name,
            t.file_name,
            t.template_type,
            t.status,
            t.status_details,
            t.yaml,
            t.params.as_ref().map(serde_json::Value::to_string),
            t.created_at,
            t.updated_at,
        ];
        execute(&self.tx, "templates: put", sql, params)?;
        Ok(())
    }

    /// Deletes the template `uuid`; `false` if there was none.
    pub fn delete_template(&self, uuid: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM templates WHERE uuid = ?1";
        Ok(execute(&self.tx, "templates: delete", sql, [uuid])? > 0)
    }
}

const COLUMNS: &str = "uuid, name, file_name, template_type, status, status_details, yaml, params,
    created_at, updated_at";

impl Reader {
    /// Every template, oldest first (by `created_at`, then uuid).
    pub fn templates(&self) -> Result<Vec<StoredTemplate>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM templates ORDER BY created_at, uuid");
        query_rows(&self.conn, "templates: list", &sql, [], template)
    }

    /// The template `uuid`.
    pub fn template(&self, uuid: &str) -> Result<Option<StoredTemplate>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM templates WHERE uuid = ?1");
        query_row(&self.conn, "templates: read", &sql, [uuid], template)
    }

    /// The templates named `name`, oldest first. Names are not unique: a second template of a
    /// name is stored with status `ERROR` ("Duplicate template name"), as in Vitrage.
    pub fn templates_named(&self, name: &str) -> Result<Vec<StoredTemplate>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM templates WHERE name = ?1 ORDER BY created_at, uuid");
        query_rows(&self.conn, "templates: by name", &sql, [name], template)
    }
}

fn template(row: &Row<'_>) -> rusqlite::Result<StoredTemplate> {
    Ok(StoredTemplate {
        uuid: row.get(0)?,
        name: row.get(1)?,
        file_name: row.get(2)?,
        template_type: row.get(3)?,
        status: row.get(4)?,
        status_details: row.get(5)?,
        yaml: row.get(6)?,
        params: row.get::<_, Option<Json<_>>>(7)?.map(|j| j.0),
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::scratch::{Scratch, ts};
    use super::*;
    use serde_json::json;

    fn sample(uuid: &str, name: &str, at: i64) -> StoredTemplate {
        StoredTemplate {
            uuid: uuid.into(),
            name: name.into(),
            file_name: format!("{name}.yaml"),
            template_type: "standard".into(),
            status: TemplateStatus::Active,
            status_details: "Template validation is OK".into(),
            yaml: format!("metadata:\n  version: 3\n  name: {name}\n"),
            params: Some(json!({ "alarm_name": "nic down" })),
            created_at: ts(at),
            updated_at: ts(at),
        }
    }

    #[test]
    fn templates_are_added_replaced_listed_and_deleted() {
        let dir = Scratch::new("templates");
        let mut store = Store::open(dir.path()).unwrap();
        store.put_template(&sample("u2", "host_down", 2)).unwrap();
        store.put_template(&sample("u1", "nic_failure", 1)).unwrap();
        let mut duplicate = sample("u3", "nic_failure", 3);
        duplicate.status = TemplateStatus::Error;
        duplicate.status_details = "Duplicate template name".into();
        duplicate.params = None;
        store.put_template(&duplicate).unwrap();
        let uuids = |v: Vec<StoredTemplate>| v.into_iter().map(|t| t.uuid).collect::<Vec<_>>();
        assert_eq!(uuids(store.templates().unwrap()), ["u1", "u2", "u3"]);
        assert_eq!(uuids(store.templates_named("nic_failure").unwrap()), ["u1", "u3"]);
        assert_eq!(store.template("u3").unwrap(), Some(duplicate));

        let mut loading = sample("u1", "nic_failure", 99);
        loading.status = TemplateStatus::Loading;
        loading.updated_at = ts(100);
        store.put_template(&loading).unwrap();
        let stored = store.template("u1").unwrap().unwrap();
        assert_eq!(
            (stored.status, stored.created_at, stored.updated_at),
            (TemplateStatus::Loading, ts(1), ts(100))
        );

        assert!(store.delete_template("u2").unwrap());
        assert!(!store.delete_template("u2").unwrap());
        assert_eq!(store.template("u2").unwrap(), None);
        assert_eq!(uuids(store.templates().unwrap()), ["u1", "u3"]);
    }
}
