//! The Claude Code plugins under plugins/: every command file's frontmatter parses (with
//! PyYAML, an independent YAML parser), keeps the original command's name, description,
//! examples and argument hint, lets the model run only the binary, and every `helm-cloud`
//! line in it, with each of its examples' arguments, is accepted by the binary's parser.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The frontmatter of `file` as JSON, parsed by PyYAML.
fn frontmatter(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).unwrap();
    let yaml = text
        .strip_prefix("---\n")
        .and_then(|t| t.split_once("\n---\n"))
        .map(|(f, _)| f.to_string())
        .unwrap_or_else(|| panic!("{}: no frontmatter", file.display()));
    let out = std::process::Command::new(helm_testsupport::Emulator::shared().python())
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(yaml.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}: the frontmatter is not YAML",
        file.display()
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_plugin_command_parses_and_every_invocation_is_accepted_by_the_binary() {
    let expected = [
        (
            "helm-cloud",
            "fractary-helm-cloud",
            vec!["audit", "health", "investigate", "remediate"],
        ),
        (
            "helm",
            "fractary-helm",
            vec!["dashboard", "escalate", "issues", "status"],
        ),
    ];
    let dir = project();
    let mut checked = 0;
    for (folder, plugin, commands) in expected {
        let base = repo().join("plugins").join(folder);
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(base.join(".claude-plugin/plugin.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["name"], plugin);
        let mcp: Value =
            serde_json::from_str(&std::fs::read_to_string(base.join(".mcp.json")).unwrap())
                .unwrap();
        assert_eq!(
            mcp["mcpServers"]["helm-cloud"]["args"],
            serde_json::json!(["mcp"])
        );
        let mut found: Vec<String> = std::fs::read_dir(base.join("commands"))
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        found.sort();
        assert_eq!(found, commands, "{plugin}: the original commands");
        for name in commands {
            let file = base.join("commands").join(format!("{name}.md"));
            let fm = frontmatter(&file);
            assert_eq!(fm["name"], name);
            for key in ["description", "argument-hint"] {
                assert!(
                    fm[key].as_str().is_some_and(|s| !s.is_empty()),
                    "{name}: {key}"
                );
            }
            assert_eq!(
                fm["allowed-tools"], "Bash(helm-cloud:*)",
                "{name}: only the binary"
            );
            assert_eq!(
                fm["disable-model-invocation"] == true,
                name == "remediate",
                "{name}: only a person starts a remediation"
            );
            let text = std::fs::read_to_string(&file).unwrap();
            let lines: Vec<&str> = text
                .split("!`")
                .skip(1)
                .filter_map(|s| s.split('`').next())
                .collect();
            assert_eq!(lines.len(), 1, "{name}: one invocation");
            let line = lines[0];
            assert!(
                line.starts_with("helm-cloud ") && line.contains("--format json"),
                "{line}"
            );
            assert!(
                !line.contains("--yes"),
                "{name}: the plugin never confirms for the person"
            );
            for example in fm["examples"].as_array().unwrap() {
                let example = example.as_str().unwrap();
                let prefix = format!("/{plugin}:{name}");
                let args = example
                    .strip_prefix(&prefix)
                    .unwrap_or_else(|| panic!("{example} is not {prefix}"))
                    .trim();
                let full = line.replace("$ARGUMENTS", args);
                let mut argv = shlex::split(&full).expect("a shell line");
                assert_eq!(argv.remove(0), "helm-cloud");
                argv.push("--help".into());
                let r = helm_run(
                    dir.path(),
                    &argv.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                assert_eq!(r.code, 0, "{example} → {full}: {}", r.stderr);
                checked += 1;
            }
        }
    }
    let market: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join(".claude-plugin/marketplace.json")).unwrap(),
    )
    .unwrap();
    let sources: Vec<&str> = market["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["./plugins/helm-cloud", "./plugins/helm"]);
    assert_eq!(checked, 24, "every example of every command");
}
