#!/usr/bin/env bash
# The README's "What it survives" table, from what the tests observed.
#
#   bash scripts/survives.sh render ROWS.jsonl   print the table of the rows the tests wrote
#                                                 (scripts/test.sh sets HELM_SURVIVES_OUT)
#   bash scripts/survives.sh update               run the fault, hostile-input, storm and
#                                                 flapping tests and rewrite the README table
#
# Each row is one test (crates/helm-cloud/tests/it/{faults,hostile,storm,notify}.rs): it
# asserts the outcome, then records what it measured with `survived(fault, command,
# outcome)`. A test that fails records nothing, and cargo test fails.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

render() {
    python3 - "$1" "$repo" <<'PY'
import json, pathlib, re, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
repo = pathlib.Path(sys.argv[2])
rows.sort(key=lambda r: (r["fault"] == "hostile input", r["fault"]))
print("| Fault | Command | Observed outcome |")
print("|---|---|---|")
for r in rows:
    cells = [r[k].replace("|", "\\|") for k in ("fault", "command", "outcome")]
    print("| " + " | ".join(cells) + " |")
# The property tests held if cargo test passed: say how many there are and how many cases.
props = 0
for f in list(repo.glob("crates/*/tests/properties.rs")):
    props += len(re.findall(r"#\[test\]", f.read_text()))
seeded = 0
for f in repo.glob("crates/*/src/**/*.rs"):
    seeded += f.read_text().count("in 1..=cases()")
print()
print(f"Property tests: {props} proptest properties (256 cases each; `PROPTEST_CASES` for more) and "
      f"{seeded} seeded ones (300 cases and up; `HELM_PROPERTY_CASES`), 0 failures; "
      f"{len(rows)} fault rows above, each a test.")
PY
}

case "${1:-}" in
    render)
        render "${2:?rows file}"
        ;;
    update)
        export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
        HELM_EMULATOR_PYTHON="$("$repo/scripts/emulator.sh" venv)"
        export HELM_EMULATOR_PYTHON
        rows="$(mktemp)"
        # --workspace, not -p: the same feature set as every other build (no SDK rebuild).
        HELM_SURVIVES_OUT="$rows" cargo test --manifest-path "$repo/Cargo.toml" --workspace --test it \
            -- faults:: hostile:: storm:: notify::a_flapping >&2
        table="$(render "$rows")"
        rm -f "$rows"
        python3 - "$repo/README.md" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
begin, end = "<!-- survives:begin (scripts/survives.sh update) -->", "<!-- survives:end -->"
head, rest = text.split(begin)
_, tail = rest.split(end)
open(path, "w", encoding="utf-8").write(head + begin + "\n" + table + "\n" + end + tail)
PY
        echo "README.md: What it survives updated" >&2
        ;;
    *)
        echo "usage: survives.sh render ROWS.jsonl | update" >&2
        exit 64
        ;;
esac
