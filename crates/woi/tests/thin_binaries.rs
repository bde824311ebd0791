//! The binaries are thin wrappers over the public API (issue 10): they are
//! separate crates, so they can only reach `pub` items; this test keeps the
//! library crates free of hidden public back doors and the binaries free of
//! private path dependencies.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn library_crates_have_no_hidden_public_items() {
    let mut files = Vec::new();
    for krate in ["woi-core", "woi-adapters", "woi"] {
        rust_files(&root().join("crates").join(krate).join("src"), &mut files);
    }
    assert!(files.len() > 10, "sources not found");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("doc(hidden)"), "{} has a #[doc(hidden)] item: a back door", f.display());
    }
}

#[test]
fn binaries_depend_only_on_library_crates() {
    for krate in ["woi-cli", "woi-server"] {
        let manifest = std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml")).unwrap();
        let mut section = String::new();
        for line in manifest.lines() {
            if line.starts_with('[') {
                section = line.to_string();
            }
            if !section.contains("dependencies") {
                continue; // [[bench]] / [[bin]] paths are not dependencies
            }
            // Path dependencies must be the workspace's library crates.
            if line.contains("path") && line.contains("..") {
                panic!("{krate} has a private path dependency: {line}");
            }
            if let Some(name) = line.split('.').next().filter(|n| n.starts_with("woi")) {
                assert!(
                    ["woi-core", "woi-adapters", "woi-server", "woi"].contains(&name.trim()),
                    "{krate} depends on {name}"
                );
            }
        }
    }
}
