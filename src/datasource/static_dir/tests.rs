use super::*;

const SWITCH: &str = "definitions:\n  entities:\n    - static_id: s1\n      type: switch\n      id: switch-1\n      name: switch-1\n      rack: r1\n    - static_id: h1\n      type: nova.host\n      id: compute-1\n  relationships:\n    - source: s1\n      target: h1\n      relationship_type: attached\n";

fn scan(files: &[(&str, &str)], full: bool) -> Scan {
    let files = files.iter().map(|(p, t)| (p.to_string(), Ok(t.to_string()))).collect();
    Scan { files, full }
}

fn ops(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| {
            let j = serde_json::to_value(c).expect("json");
            let what = j
                .get("resource")
                .and_then(|r| r.get("id"))
                .or_else(|| j.get("id"))
                .or_else(|| j.get("target"));
            format!(
                "{} {}",
                j["op"].as_str().unwrap_or(""),
                what.and_then(Value::as_str).unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn a_new_file_adds_its_entities_with_placeholders_for_owned_types_then_its_edges() {
    let p = plan(&Loaded::new(), &scan(&[("a.yaml", SWITCH)], false));
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(
        ops(&p.changes),
        ["add_resource compute-1", "add_resource switch-1", "add_edge compute-1"],
        "resources by id, then edges"
    );
    assert_eq!(p.changes[0], identity::placeholder("nova.host", "compute-1"));
}

#[test]
fn an_unchanged_directory_changes_nothing_unless_the_scan_is_full() {
    let first = plan(&Loaded::new(), &scan(&[("a.yaml", SWITCH)], false));
    let again = plan(&first.loaded, &scan(&[("a.yaml", SWITCH)], false));
    assert_eq!(ops(&again.changes), ["add_resource compute-1"], "a placeholder is only ensured");
    let full = plan(&first.loaded, &scan(&[("a.yaml", SWITCH)], true));
    assert_eq!(full.changes.len(), first.changes.len());
}

#[test]
fn a_changed_entity_is_reported_again_with_its_removed_properties_null() {
    let first = plan(&Loaded::new(), &scan(&[("a.yaml", SWITCH)], false));
    let edited = SWITCH.replace("      rack: r1\n", "      state: down\n");
    let p = plan(&first.loaded, &scan(&[("a.yaml", &edited)], false));
    let Change::AddResource { resource } = &p.changes[1] else { panic!("{:?}", p.changes) };
    assert_eq!((resource.id.as_str(), resource.state.as_deref()), ("switch-1", Some("down")));
    assert_eq!(resource.properties.get("rack"), Some(&Value::Null));
}

#[test]
fn a_deleted_file_deletes_its_edges_and_its_own_entities_but_not_placeholders() {
    let first = plan(&Loaded::new(), &scan(&[("a.yaml", SWITCH)], false));
    let p = plan(&first.loaded, &scan(&[], false));
    assert_eq!(ops(&p.changes), ["delete_edge compute-1", "delete_resource switch-1"]);
    assert!(p.loaded.is_empty());
}

#[test]
fn an_invalid_file_is_reported_and_keeps_what_it_loaded_before() {
    let first = plan(&Loaded::new(), &scan(&[("a.yaml", SWITCH)], false));
    let broken = SWITCH.replace("      rack: r1\n", "      rack: [r1\n");
    let p = plan(&first.loaded, &scan(&[("a.yaml", &broken)], false));
    assert_eq!(ops(&p.changes), ["add_resource compute-1"], "nothing of a.yaml goes");
    assert_eq!(p.loaded, first.loaded);
    let [e] = &p.errors[..] else { panic!("{:?}", p.errors) };
    assert!(e.to_string().starts_with("a.yaml:"), "{e}");
    assert!(e.pos.is_some(), "{e}");
}

#[test]
fn the_datasource_loads_a_scan_only_once_it_is_stored() {
    let mut dir = StaticDir::default();
    let batches = dir.translate(scan(&[("a.yaml", SWITCH)], false)).expect("translates");
    assert_eq!(batches.len(), 1);
    assert!(dir.loaded.is_empty(), "not stored yet");
    assert_eq!(dir.at_most().len(), 1, "what a restart must be ready to delete");
    dir.stored();
    assert_eq!(dir.loaded.len(), 1);
}
