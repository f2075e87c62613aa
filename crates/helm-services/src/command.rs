//! Another domain's health command, run without a shell: its words split as a POSIX shell
//! would (no expansion), `--env ENV` appended, stdin closed, stopped after the timeout, and
//! what it printed read as a JSON health report.

use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The report `command` prints for `environment`, or why there is none, in one line.
pub fn run_report(command: &str, environment: &str, timeout: Duration) -> Result<Value, String> {
    let mut argv = shlex::split(command)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| format!("{command:?} cannot be split into arguments"))?;
    argv.extend(["--env".to_string(), environment.to_string()]);
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    // Read stdout beside the wait, so a large report cannot fill the pipe and stall both.
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} timed out after {} and was stopped",
                    argv[0],
                    helm_core::config::duration::format(timeout)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("{}: {e}", argv[0])),
        }
    }
    let out = reader.join().unwrap_or_default();
    serde_json::from_slice::<Value>(&out)
        .map_err(|e| format!("{} did not print a JSON health report ({e})", argv[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_runs_without_a_shell_and_its_report_is_read() {
        // `sh -c` is the command here, not a shell around it: `$0` and the quoting are sh's.
        let v = run_report(
            r#"sh -c 'echo "{\"env\": \"$2\", \"x\": \"$HOME-not-expanded-by-us\"}"' sh"#,
            "prod",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(v["env"], "prod");
    }

    #[test]
    fn a_hung_command_is_stopped_and_non_json_or_unsplittable_is_said() {
        let e = run_report("sh -c 'sleep 30' sh", "test", Duration::from_millis(200)).unwrap_err();
        assert!(e.contains("timed out"), "{e}");
        let e = run_report("echo not json", "test", Duration::from_secs(5)).unwrap_err();
        assert!(e.contains("did not print a JSON health report"), "{e}");
        let e = run_report("echo 'unclosed", "test", Duration::from_secs(5)).unwrap_err();
        assert!(e.contains("cannot be split"), "{e}");
        let e = run_report("/no/such/command", "test", Duration::from_secs(5)).unwrap_err();
        assert!(e.starts_with("/no/such/command:"), "{e}");
    }
}
