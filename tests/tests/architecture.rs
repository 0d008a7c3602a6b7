//! The architecture's dependency rules, checked by `cargo test` itself: a forbidden dependency
//! fails here, not only in CI's scripts.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// The workspace as `cargo metadata` describes it.
fn metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// Every package's dependencies by name: normal and build ones (those that ship), and with
/// `with_dev` dev-dependencies too.
fn dependency_graph(with_dev: bool) -> BTreeMap<String, BTreeSet<String>> {
    let metadata = metadata();
    let name_of: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| (package["id"].as_str().unwrap(), package["name"].as_str().unwrap()))
        .collect();
    let mut graph = BTreeMap::new();
    for node in metadata["resolve"]["nodes"].as_array().unwrap() {
        let shipped = node["deps"].as_array().unwrap().iter().filter(|dep| {
            dep["dep_kinds"].as_array().unwrap().iter().any(|kind| with_dev || kind["kind"].as_str() != Some("dev"))
        });
        let deps = shipped.map(|dep| name_of[dep["pkg"].as_str().unwrap()].to_string()).collect();
        graph.insert(name_of[node["id"].as_str().unwrap()].to_string(), deps);
    }
    graph
}

/// Everything `package` depends on, directly or not.
fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, package: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut to_visit = vec![package.to_string()];
    while let Some(next) = to_visit.pop() {
        for dep in graph.get(&next).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                to_visit.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn the_core_depends_on_std_alone() {
    let graph = dependency_graph(false);
    assert_eq!(graph["mastery-core"], BTreeSet::new(), "mastery-core must have no dependency");
}

#[test]
fn boundary_and_persistence_never_depend_on_each_other() {
    let graph = dependency_graph(false);
    assert!(!reaches(&graph, "mastery-boundary").contains("mastery-persistence"));
    assert!(!reaches(&graph, "mastery-persistence").contains("mastery-boundary"));
    // The PostgreSQL store is persistence too: it knows the store trait, never the boundary.
    assert!(!reaches(&graph, "mastery-postgres").contains("mastery-boundary"));
    assert!(!reaches(&graph, "mastery-boundary").contains("mastery-postgres"));
}

#[test]
fn sqlite_users_never_build_the_postgres_driver_unless_they_ask() {
    let graph = dependency_graph(false);
    for layer in ["mastery-core", "mastery-boundary", "mastery-persistence"] {
        assert!(!reaches(&graph, layer).contains("tokio-postgres"), "{layer} reaches tokio-postgres");
    }
    let metadata = metadata();
    let app = metadata["packages"].as_array().unwrap().iter().find(|p| p["name"] == "mastery-app").unwrap();
    let postgres = app["dependencies"].as_array().unwrap().iter().find(|d| d["name"] == "mastery-postgres").unwrap();
    assert_eq!(postgres["optional"], true, "mastery-app takes the PostgreSQL store only with its `postgres` feature");
    let default = &app["features"]["default"];
    assert!(default.is_null() || !default.to_string().contains("postgres"), "and not by default: {default}");
}

#[test]
fn the_layers_below_the_assembly_never_reach_a_front_end() {
    let graph = dependency_graph(false);
    for layer in ["mastery-core", "mastery-boundary", "mastery-persistence", "mastery-postgres", "mastery-app"] {
        let reached = reaches(&graph, layer);
        for front_end in ["mastery-server", "mastery-cli"] {
            assert!(!reached.contains(front_end), "{layer} depends on {front_end}");
        }
    }
    // The server is another assembler of the same crates, beside the command line.
    assert!(reaches(&graph, "mastery-server").contains("mastery-app"));
}

/// The workspace's packages whose manifests name `package` as a dependency of any kind.
fn declared_dependents(package: &str) -> Vec<String> {
    let metadata = metadata();
    let members = metadata["packages"].as_array().unwrap().iter();
    let declaring = members.filter(|member| {
        member["dependencies"].as_array().unwrap().iter().any(|dep| dep["name"].as_str() == Some(package))
    });
    declaring.map(|member| member["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn nothing_depends_on_the_binary() {
    // Not even for tests: the binary's crate is arguments, the terminal and printing.
    let graph = dependency_graph(true);
    let dependents: Vec<&String> =
        graph.iter().filter(|(_, deps)| deps.contains("mastery-cli")).map(|(name, _)| name).collect();
    assert!(dependents.is_empty(), "{dependents:?} depend on mastery-cli");
    // Cargo leaves a dependency on a package without a library out of the resolved graph, with
    // only a warning: the manifests tell whether one was asked for.
    let declared = declared_dependents("mastery-cli");
    assert!(declared.is_empty(), "{declared:?} name mastery-cli as a dependency");
}
