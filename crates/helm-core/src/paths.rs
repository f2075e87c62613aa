//! Where every file of FORMATS.md lives, relative to the project root.

use std::path::{Path, PathBuf};

/// The project root and the paths derived from it.
#[derive(Debug, Clone)]
pub struct ProjectPaths {
    pub root: PathBuf,
}

impl ProjectPaths {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ProjectPaths { root: root.into() }
    }

    /// `--root` / `HELM_ROOT` if given, else the enclosing git work tree's top (the folder
    /// holding `.git`), else the current directory.
    pub fn discover(explicit: Option<&Path>, cwd: &Path) -> Self {
        if let Some(root) = explicit {
            return Self::new(root);
        }
        let mut dir = Some(cwd);
        while let Some(d) = dir {
            if d.join(".git").exists() {
                return Self::new(d);
            }
            dir = d.parent();
        }
        Self::new(cwd)
    }

    pub fn fractary(&self) -> PathBuf {
        self.root.join(".fractary")
    }
    pub fn registry(&self) -> PathBuf {
        self.fractary().join("registry/deployments.json")
    }
    pub fn aws_credentials(&self) -> PathBuf {
        self.fractary().join("shared/aws-credentials.json")
    }
    pub fn aws_credentials_example(&self) -> PathBuf {
        self.fractary().join("shared/aws-credentials.example.json")
    }
    pub fn environments(&self) -> PathBuf {
        self.fractary().join("shared/environments.json")
    }
    /// The preferred location of monitoring.toml.
    pub fn monitoring(&self) -> PathBuf {
        self.plugin_dir().join("config/monitoring.toml")
    }
    /// The fallback location of monitoring.toml.
    pub fn monitoring_fallback(&self) -> PathBuf {
        self.plugin_dir().join("monitoring.toml")
    }
    /// faber-cloud's per-environment registries: `<this>/<env>/registry.json`.
    pub fn faber_deployments(&self) -> PathBuf {
        self.fractary().join("plugins/faber-cloud/deployments")
    }
    pub fn legacy_faber_config(&self) -> PathBuf {
        self.fractary().join("plugins/faber-cloud/config.json")
    }
    pub fn domain_monitors(&self) -> PathBuf {
        self.fractary().join("helm/domain-monitors.json")
    }
    /// Where `health` saves its reports for `env`.
    pub fn health_reports(&self, env: &str) -> PathBuf {
        self.plugin_dir().join("monitoring").join(env)
    }
    pub fn plugin_dir(&self) -> PathBuf {
        self.fractary().join("plugins/helm-cloud")
    }

    /// `path` relative to the root when it lies under it (for messages and reports).
    pub fn display<'a>(&self, path: &'a Path) -> std::borrow::Cow<'a, str> {
        match path.strip_prefix(&self.root) {
            Ok(rel) => rel.to_string_lossy().into_owned().into(),
            Err(_) => path.to_string_lossy(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discover_prefers_explicit_then_git_top_then_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(ProjectPaths::discover(None, &nested).root, nested);
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        assert_eq!(ProjectPaths::discover(None, &nested).root, dir.path());
        let other = Path::new("/elsewhere");
        assert_eq!(ProjectPaths::discover(Some(other), &nested).root, other);
    }
}
