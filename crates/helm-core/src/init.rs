//! `helm-cloud init`: the `.fractary/` skeleton. Never overwrites a file.

use crate::config::monitoring::TEMPLATE;
use crate::error::Result;
use crate::fsutil;
use crate::paths::ProjectPaths;
use crate::registry::Registry;
use std::path::PathBuf;

/// What `init` did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitFile {
    pub path: PathBuf,
    pub written: bool,
}

const ENVIRONMENTS: &str = r#"{
  "version": "1.0.0",
  "environments": {
    "test": { "name": "test", "description": "Test/development environment", "requires_confirmation": false },
    "prod": { "name": "prod", "description": "Production environment", "requires_confirmation": true }
  }
}
"#;

const AWS_CREDENTIALS_EXAMPLE: &str = r#"{
  "version": "1.0.0",
  "aws": {
    "account_id": "123456789012",
    "region": "us-east-1",
    "profiles": { "test": "acme-test-deploy", "prod": "acme-prod-deploy" }
  }
}
"#;

pub const DOMAIN_MONITORS: &str = r#"{
  "version": "1.0.0",
  "monitors": [
    {
      "domain": "infrastructure",
      "plugin": "fractary-helm-cloud",
      "capabilities": ["health", "metrics", "performance", "logs", "investigate", "remediate", "audit"],
      "environments": ["test", "prod"],
      "priority_weight": 1.0,
      "commands": { "health": "helm-cloud health --format json" },
      "status": "active"
    }
  ],
  "planned_domains": [
    { "domain": "application", "plugin": "fractary-helm-app", "status": "planned" },
    { "domain": "content", "plugin": "fractary-helm-content", "status": "planned" }
  ]
}
"#;

/// Write every skeleton file that does not exist yet.
pub fn init(paths: &ProjectPaths, now: &str) -> Result<Vec<InitFile>> {
    let registry = Registry::empty(now).to_json();
    let files: [(PathBuf, &str); 5] = [
        (paths.registry(), registry.as_str()),
        (paths.environments(), ENVIRONMENTS),
        (paths.aws_credentials_example(), AWS_CREDENTIALS_EXAMPLE),
        (paths.monitoring(), TEMPLATE),
        (paths.domain_monitors(), DOMAIN_MONITORS),
    ];
    let mut out = Vec::new();
    for (path, text) in files {
        let written = fsutil::write_new(&path, text.as_bytes())?;
        out.push(InitFile { path, written });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn skeleton_loads_as_a_valid_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let paths = ProjectPaths::new(dir.path());
        let files = init(&paths, "2025-11-03T20:00:00Z").unwrap();
        assert!(files.iter().all(|f| f.written));
        let c = Config::load(paths.clone()).unwrap();
        assert_eq!(c.environments.names(), vec!["prod", "test"]);
        assert_eq!(
            c.monitoring.file.as_deref(),
            Some(paths.monitoring().as_path())
        );
        assert!(
            Registry::load(&paths.registry())
                .unwrap()
                .deployments
                .is_empty()
        );
        let again = init(&paths, "2026-01-01T00:00:00Z").unwrap();
        assert!(again.iter().all(|f| !f.written));
    }
}
