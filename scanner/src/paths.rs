//! Paths as findings report them: `/`-separated, without a leading `./`,
//! and relative to the scanned root. Sources, suppression and reports all
//! show and compare paths through these two functions.

use std::path::Path;

/// The path as reported: `/`-separated, without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s);
    s.to_string()
}

/// A path as reported by a scan, made relative to the scanned root when it
/// lies under it (`repo/src/a.py` with root `repo` gives `src/a.py`).
pub fn relative_to_root(root: &Path, path: &str) -> String {
    let root = display_path(root);
    let root = root.trim_end_matches('/');
    if root.is_empty() || root == "." {
        return path.to_string();
    }
    // A root above the current folder (`..`, found by config discovery from
    // a subfolder): a path relative to the current folder gets the folders
    // between the root and here in front.
    let ups = root.split('/').filter(|c| *c == "..").count();
    if ups > 0
        && root.split('/').all(|c| c == "..")
        && !path.starts_with('/')
        && let Ok(cwd) = std::env::current_dir()
    {
        let names: Vec<String> = cwd
            .components()
            .rev()
            .take(ups)
            .filter_map(|c| match c {
                std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        if names.len() == ups {
            let mut out: Vec<&str> = names.iter().rev().map(String::as_str).collect();
            out.push(path);
            return out.join("/");
        }
    }
    match path.strip_prefix(root) {
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/').to_string(),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_form() {
        assert_eq!(display_path(Path::new("./src/a.py")), "src/a.py");
        assert_eq!(display_path(Path::new("src\\a.py")), "src/a.py");
        assert_eq!(display_path(Path::new("/abs/a.py")), "/abs/a.py");
    }

    #[test]
    fn paths_relative_to_root() {
        assert_eq!(relative_to_root(Path::new("."), "src/a.py"), "src/a.py");
        assert_eq!(
            relative_to_root(Path::new("repo"), "repo/src/a.py"),
            "src/a.py"
        );
        assert_eq!(
            relative_to_root(Path::new("repo/"), "repo/src/a.py"),
            "src/a.py"
        );
        assert_eq!(
            relative_to_root(Path::new("repo"), "repository/a.py"),
            "repository/a.py"
        );
        assert_eq!(relative_to_root(Path::new("/abs/r"), "/abs/r/a.py"), "a.py");
    }
}
