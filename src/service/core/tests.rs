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
