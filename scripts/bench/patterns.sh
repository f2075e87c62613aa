#!/usr/bin/env bash
# Benchmark: helm-cloud's template miner against drain3 (../shared/bench/drain3_baseline.py)
# on HDFS content repeated to 200,000 lines, same machine, same run: the mining loop on one
# thread (as drain3's loop is timed), the whole `helm-cloud patterns` process as a user
# waits (masking on every core, the default, and on one thread), with the CPU time it
# used; and the miner's peak memory at 200k and 2M lines (streaming, no assignments kept).
# Grouping accuracy: scripts/bench/ga_all.sh.
#
#   bash scripts/bench/patterns.sh [SHARED=../shared]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
shared="${1:-$repo/../shared}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
venv="${HELM_CACHE:-$HOME/.cache/helm-cloud}/bench-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import drain3' 2>/dev/null; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q drain3==0.9.11
fi
cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p helm-patterns --example mine
cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p helm-cloud
mine="$CARGO_TARGET_DIR/release/examples/mine"
helm="$CARGO_TARGET_DIR/release/helm-cloud"

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src="$shared/data/loghub-2k/HDFS/HDFS_2k.log_content.txt"
for _ in $(seq 100); do cat "$src"; done >"$work/200k.txt"
for _ in $(seq 10); do cat "$work/200k.txt"; done >"$work/2m.txt"

# Mining loop alone, as drain3_baseline.py times it (the example reports the median of 5).
ours_lps=$("$mine" "$work/200k.txt" --no-assign 2>&1 >/dev/null | sed -n 's/.*lines_per_s=\([0-9]*\).*/\1/p')
drain=$("$venv/bin/python" "$shared/bench/drain3_baseline.py" "$work/200k.txt" --repeat 3)
drain_lps=$(echo "$drain" | sed -n 's/.*lines_per_s=\([0-9]*\).*/\1/p')
echo "helm-patterns: lines_per_s=$ours_lps (median of 5, mining loop on one thread, 200k HDFS lines)"
threads="$(nproc)"
echo "helm-patterns stream, file read in batches, $threads masking threads: $("$mine" "$work/200k.txt" --threads "$threads" 2>&1)"
echo "drain3:        $drain"
python3 -c "print(f'ratio: {$ours_lps/$drain_lps:.1f}x drain3 lines per second')"

# Counted as a user waits: the whole `helm-cloud patterns FILE --assignments OUT.csv`
# process (start-up, reading, mining, writing the CSV), median of 11, against drain3's
# mining loop and against its whole process (start-up and reading included); with the
# default threads (one per core) and with one, and the CPU time (user + system) each used.
python3 - "$helm" "$work/200k.txt" "$work/assign.csv" "$venv/bin/python" "$shared/bench/drain3_baseline.py" "$drain_lps" <<'EOF'
import os, statistics, subprocess, sys, time
helm, lines, out, py, baseline, drain_lps = sys.argv[1:7]
def median(cmd, n):
    ts, cpu = [], []
    for _ in range(n):
        before = os.times()
        t = time.monotonic()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        ts.append(time.monotonic() - t)
        after = os.times()
        cpu.append(after.children_user + after.children_system - before.children_user - before.children_system)
    return statistics.median(ts), statistics.median(cpu)
loop = 200_000 / float(drain_lps)
theirs, _ = median([py, baseline, lines, "--repeat", "1"], 3)
for label, extra in (("default threads", []), ("--threads 1", ["--threads", "1"])):
    ours, cpu = median([helm, "patterns", lines, "--assignments", out] + extra, 11)
    print(f"helm-cloud patterns --assignments ({label}), whole process: {ours:.4f} s (CPU {cpu:.3f} s): "
          f"{loop / ours:.1f}x drain3's mining loop ({loop:.3f} s), {theirs / ours:.1f}x its whole process ({theirs:.3f} s)")
EOF

# Peak memory, whole CLI, streaming: flat from 200k to 2M lines.
for f in 200k 2m; do
  /usr/bin/time -f "helm-cloud patterns $f lines: peak_rss_kb=%M wall_s=%e" "$helm" patterns "$work/$f.txt" --top 3 >/dev/null
done
