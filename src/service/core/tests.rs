//! The evaluation task's start: what a data directory holds after each kind of start.

use super::{Core, Initial};
use crate::service::serve::{ServeConfig, initial};
use crate::store::scratch::Scratch;
use crate::store::{Seq, Store};

fn start(dir: &Scratch, initial: Initial) -> Core {
    let store = Store::open(dir.path()).expect("open the store");
    Core::start(store, initial).map(|(core, _)| core).expect("start")
}

#[test]
fn a_fresh_start_logs_the_templates_then_the_topology_and_a_restart_adds_nothing() {
    let dir = Scratch::new("core-fresh");
    let core = start(&dir, initial(&ServeConfig::default()).unwrap());
    assert!(core.runner().resource("compute-1").is_some());
    assert_eq!(core.store.last_seq().unwrap(), Seq(3), "deployment, templates, topology");
    drop(core);
    let core = start(&dir, initial(&ServeConfig::default()).unwrap());
    assert!(core.runner().resource("compute-1").is_some());
    assert_eq!(core.store.last_seq().unwrap(), Seq(3), "deployment, templates, topology");
}

#[test]
fn a_start_killed_between_the_templates_and_the_topology_loads_the_topology_next_time() {
    let dir = Scratch::new("core-half");
    let full = initial(&ServeConfig::default()).unwrap();
    // The first start got as far as the templates' commit.
    let core = start(&dir, Initial { templates: full.templates.clone(), changes: Vec::new() });
    assert_eq!(core.store.last_seq().unwrap(), Seq(2), "deployment, templates");
    drop(core);
    let core = start(&dir, full);
    assert!(core.runner().resource("compute-1").is_some());
    assert_eq!(core.store.last_seq().unwrap(), Seq(3), "deployment, templates, topology");
    assert_eq!(core.templates.len(), 3);
}

#[test]
fn a_datasource_batch_is_logged_as_resolved_and_replays_to_the_same_graph() {
    use super::{Admission, Command};
    use crate::datasource::identity::placeholder;
    use crate::runner::Change;
    let dir = Scratch::new("core-resolve");
    let mut core = start(&dir, initial(&ServeConfig::default()).unwrap());
    let (reply, _answer) = tokio::sync::oneshot::channel();
    let changes = vec![placeholder("nova.host", "compute-1"), placeholder("nova.host", "new-host")];
    let source = "zabbix".to_string();
    let admission = Admission::Resolve;
    core.handle(vec![Command::Ingest { source, request_id: None, changes, admission, reply }]);
    let last = core.store.last_seq().unwrap();
    let entry = core.store.entries_after(Seq(last.0 - 1), 1).unwrap().remove(0);
    let logged: Vec<Change> = serde_json::from_value(entry.body["changes"].clone()).unwrap();
    assert_eq!(logged, vec![placeholder("nova.host", "new-host")], "compute-1 exists already");
    drop(core);
    let core = start(&dir, initial(&ServeConfig::default()).unwrap());
    let v = core.runner().resource("new-host").expect("replayed");
    assert!(core.runner().graph().vertex(v).unwrap().is_placeholder());
    let v = core.runner().resource("compute-1").expect("kept");
    assert!(!core.runner().graph().vertex(v).unwrap().is_placeholder());
}
