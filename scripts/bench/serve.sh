#!/usr/bin/env bash
# Benchmark: `helm-cloud serve` on a project of 1,000 resources, 5,000 active issues and
# 1,000 saved health reports (written by scripts/bench/seed_serve_project.py in the files'
# own formats). Measures, with wrk (Debian's package, installed when missing) on loopback:
# requests per second and p99 latency of `/` and `/api/dashboard`; the first answer after a
# change (the documents rebuilt); the server's peak memory; and the time from a new report on
# disk to the `changed` event on /events.
#
#   bash scripts/bench/serve.sh [RESOURCES=1000] [ISSUES=5000] [REPORTS=1000]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
resources="${1:-1000}"; issues="${2:-5000}"; reports="${3:-1000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
command -v wrk >/dev/null || { echo "bench: installing wrk" >&2; apt-get install -y -qq wrk >&2; }

cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p helm-cloud
helm="$CARGO_TARGET_DIR/release/helm-cloud"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$repo/scripts/bench/seed_serve_project.py" "$work/project" "$resources" "$issues" "$reports"
du -sh "$work/project/.fractary" | sed 's/^/project size: /'

"$helm" --root "$work/project" serve --listen 127.0.0.1:0 >"$work/url" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url="$(head -1 "$work/url")"; url="${url%/}"

first() { python3 -c "import time,urllib.request,sys; t=time.monotonic(); urllib.request.urlopen(sys.argv[1]).read(); print(f'{(time.monotonic()-t)*1000:.0f} ms')" "$1"; }
echo "first answer (documents built): / $(first "$url/")   /api/dashboard $(first "$url/api/dashboard")"
for path in / /api/dashboard; do
  echo "--- wrk -t2 -c32 -d10s --latency $path"
  wrk -t2 -c32 -d10s --latency "$url$path" | grep -E "Requests/sec|99%|50%|Non-2xx|Socket errors" || true
done
echo "peak memory (VmHWM): $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"

python3 - "$url" "$work/project/.fractary/plugins/helm-cloud/monitoring/test" <<'EOF'
import glob, os, shutil, socket, sys, time, urllib.parse
url, reports = sys.argv[1], sys.argv[2]
u = urllib.parse.urlparse(url)
times = []
for n in range(5):
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    s.settimeout(20)
    s.recv(4096)
    time.sleep(1.2)
    newest = sorted(glob.glob(reports + "/*.json"))[-1]
    t = time.monotonic()
    shutil.copyfile(newest, f"{reports}/2999123{n}T000000Z-health-check.json")
    buf = b""
    while b"event: changed" not in buf:
        buf += s.recv(4096)
    times.append(time.monotonic() - t)
    s.close()
print("new report on disk -> 'changed' on /events: " + ", ".join(f"{x*1000:.0f} ms" for x in times))
EOF
echo "then the page fetches itself once: / $(first "$url/")"
