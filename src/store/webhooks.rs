//! Registered webhooks: where alarm notifications are POSTed.

use super::{Json, Reader, Store, StoreError, Timestamp, Txn, execute, query_row, query_rows};
use rusqlite::{Row, params};

/// A registered webhook.
#[derive(Clone, Debug, PartialEq)]
pub struct Webhook {
    /// Its id (a UUID, chosen by the caller).
    pub id: String,
    /// Where notifications go.
    pub url: String,
    /// Field name to regex: a notification is sent only if every field matches.
    pub regex_filter: Option<serde_json::Value>,
    /// Header name to value, sent with each notification.
    pub headers: Option<serde_json::Value>,
    /// When it was registered.
    pub created_at: Timestamp,
    /// The project that registered it.
    pub project_id: Option<String>,
    /// Registered by an admin: it receives every project's notifications.
    pub is_admin_webhook: bool,
}

impl Store {
    /// Registers a webhook; see [`Txn::add_webhook`].
    pub fn add_webhook(&mut self, webhook: &Webhook) -> Result<bool, StoreError> {
        self.write(|txn| txn.add_webhook(webhook))
    }

    /// Deletes a webhook; see [`Txn::delete_webhook`].
    pub fn delete_webhook(&mut self, id: &str) -> Result<bool, StoreError> {
        self.write(|txn| txn.delete_webhook(id))
    }
}

impl Txn<'_> {
    /// Registers `webhook` and returns `true`, or returns `false` and changes nothing if its id
    /// is already registered.
    pub fn add_webhook(&self, w: &Webhook) -> Result<bool, StoreError> {
        let sql = "INSERT INTO webhooks (id, url, regex_filter, headers, created_at, project_id,
                is_admin_webhook)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING";
        let params = params![
            w.id,
            w.url,
            w.regex_filter.as_ref().map(serde_json::Value::to_string),
            w.headers.as_ref().map(serde_json::Value::to_string),
            w.created_at,
            w.project_id,
            w.is_admin_webhook,
        ];
        Ok(execute(&self.tx, "webhooks: add", sql, params)? > 0)
    }

    /// Deletes webhook `id`; `false` if there was none.
    pub fn delete_webhook(&self, id: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM webhooks WHERE id = ?1";
        Ok(execute(&self.tx, "webhooks: delete", sql, [id])? > 0)
    }
}

const COLUMNS: &str = "id, url, regex_filter, headers, created_at, project_id, is_admin_webhook";

impl Reader {
    /// Every webhook, oldest first.
    pub fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM webhooks ORDER BY created_at, id");
        query_rows(&self.conn, "webhooks: list", &sql, [], webhook)
    }

    /// Webhook `id`.
    pub fn webhook(&self, id: &str) -> Result<Option<Webhook>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1");
        query_row(&self.conn, "webhooks: read", &sql, [id], webhook)
    }
}

fn webhook(row: &Row<'_>) -> rusqlite::Result<Webhook> {
    Ok(Webhook {
        id: row.get(0)?,
        url: row.get(1)?,
        regex_filter: row.get::<_, Option<Json<_>>>(2)?.map(|j| j.0),
        headers: row.get::<_, Option<Json<_>>>(3)?.map(|j| j.0),
        created_at: row.get(4)?,
        project_id: row.get(5)?,
        is_admin_webhook: row.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::scratch::{Scratch, ts};
    use super::*;
    use serde_json::json;

    fn sample(id: &str, at: i64) -> Webhook {
        Webhook {
            id: id.into(),
            url: format!("http://127.0.0.1:9000/{id}"),
            regex_filter: Some(json!({ "vitrage_type": "zabbix.*" })),
            headers: None,
            created_at: ts(at),
            project_id: Some("admin".into()),
            is_admin_webhook: at % 2 == 0,
        }
    }

    #[test]
    fn webhooks_are_added_once_listed_and_deleted() {
        let dir = Scratch::new("webhooks");
        let mut store = Store::open(dir.path()).unwrap();
        assert!(store.add_webhook(&sample("w2", 2)).unwrap());
        assert!(store.add_webhook(&sample("w1", 1)).unwrap());
        assert!(!store.add_webhook(&sample("w1", 5)).unwrap(), "the id is taken");
        assert_eq!(store.webhooks().unwrap(), [sample("w1", 1), sample("w2", 2)]);
        assert_eq!(store.webhook("w2").unwrap(), Some(sample("w2", 2)));
        assert!(store.delete_webhook("w2").unwrap());
        assert!(!store.delete_webhook("w2").unwrap());
        assert_eq!(store.webhook("w2").unwrap(), None);
    }
}
