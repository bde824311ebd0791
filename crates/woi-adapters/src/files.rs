//! Definition files on disk.

use std::path::{Path, PathBuf};

use woi_core::Catalog;

/// Reading definition files failed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Read definition files (TOML, or JSON by the `.json` extension) into a
/// catalog. A directory is read as every `*.toml` and `*.json` file in it,
/// in name order. Syntax errors are kept in the catalog's diagnostics.
pub fn load(paths: &[PathBuf]) -> Result<Catalog, FilesError> {
    let mut cat = Catalog::new();
    for f in expand(paths)? {
        add_file(&mut cat, &f)?;
    }
    Ok(cat)
}

/// The files a list of files and directories stands for: a directory is
/// every `*.toml` and `*.json` file in it, in name order.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FilesError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| FilesError::Read { path: p.clone(), source })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| matches!(f.extension().and_then(|x| x.to_str()), Some("toml" | "json")))
                .collect();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn add_file(cat: &mut Catalog, path: &Path) -> Result<(), FilesError> {
    let text = std::fs::read_to_string(path).map_err(|source| FilesError::Read { path: path.to_path_buf(), source })?;
    cat.add_text(&path.display().to_string(), &text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_directory_in_name_order_and_keeps_syntax_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.toml"), "[[jobnet]]\nproject = \"P\"\nname = \"A\"\n").expect("write");
        std::fs::write(dir.path().join("b.json"), "{\"jobnet\": [{\"project\": \"P\", \"name\": \"B\"}]}")
            .expect("write");
        std::fs::write(dir.path().join("c.toml"), "[[jobnet]\n").expect("write");
        std::fs::write(dir.path().join("notes.txt"), "ignored").expect("write");
        let cat = load(&[dir.path().to_path_buf()]).expect("load");
        let names: Vec<_> = cat.defs.jobnets.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(cat.read_errors.len(), 1);
        assert!(cat.read_errors[0].file.as_deref().is_some_and(|f| f.ends_with("c.toml")));
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let err = load(&[PathBuf::from("/nonexistent/x.toml")]).expect_err("must fail");
        assert!(err.to_string().contains("/nonexistent/x.toml"));
    }
}
