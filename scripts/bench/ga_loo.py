"""Leave-one-out grouping accuracy of helm-cloud's miner on the ten Loghub-2k systems.

Each system is scored with the configuration (similarity, prefix depth, the merge pass's
distinct-value threshold) chosen as the best mean GA on the other nine, never looking at
it; the table shows that choice, the held-out GA, and the default configuration's GA.

    python3 scripts/bench/ga_loo.py MINE DATA BENCH
      MINE   the release build of crates/helm-patterns/examples/mine
      DATA   ../shared/data/loghub-2k        BENCH  ../shared/bench (ga.py)

What this does not measure: the masking and merge *rules* themselves (which bytes are
variables, which positions merge) were written looking at all ten systems; leave-one-out
over these settings cannot undo that. Systems outside the ten are the test of the rules.
"""
import itertools
import os
import statistics
import subprocess
import sys
import tempfile

SYSTEMS = ["HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "Windows", "Linux", "Apache", "OpenSSH", "HealthApp"]
GRID = {
    "similarity": [0.4, 0.5, 0.6, 0.7],
    "depth": [3, 4, 5],
    "merge-min": [2, 4, 8, 0],  # 0: merge only positions already holding a variable
}
DEFAULT = {"similarity": 0.5, "depth": 4, "merge-min": 4}


def ga(mine, data, bench, system, config, work):
    out = os.path.join(work, f"{system}.csv")
    args = [mine, os.path.join(data, system, f"{system}_2k.log_content.txt")]
    for k, v in config.items():
        args += [f"--{k}", str(v)]
    with open(out, "w") as f:
        subprocess.run(args, stdout=f, stderr=subprocess.DEVNULL, check=True)
    r = subprocess.run([sys.executable, os.path.join(bench, "ga.py"),
                        os.path.join(data, system, f"{system}_2k.log_structured.csv"), out],
                       capture_output=True, text=True, check=True)
    return float(r.stdout.split("\n")[0].split("=")[1])


def main():
    mine, data, bench = sys.argv[1:4]
    configs = [dict(zip(GRID, v)) for v in itertools.product(*GRID.values())]
    key = lambda c: tuple(c.values())
    scores = {}
    with tempfile.TemporaryDirectory() as work:
        for c in configs:
            for s in SYSTEMS:
                scores[(key(c), s)] = ga(mine, data, bench, s, c, work)
    rows = []
    for held in SYSTEMS:
        others = [s for s in SYSTEMS if s != held]
        # Best mean on the other nine; ties go to the default, then to the grid's order.
        best = max(configs, key=lambda c: (round(statistics.mean(scores[(key(c), s)] for s in others), 6),
                                           c == DEFAULT))
        rows.append((held, best, scores[(key(best), held)], scores[(key(DEFAULT), held)]))
    print(f"{'system':<10} {'chosen on the other nine':<36} {'held-out GA':>11} {'default GA':>10}")
    for held, best, loo, default in rows:
        chosen = ", ".join(f"{k} {v}" for k, v in best.items())
        print(f"{held:<10} {chosen:<36} {loo:>11.4f} {default:>10.4f}")
    loo = [r[2] for r in rows]
    default = [r[3] for r in rows]
    print(f"{'mean':<10} {'':<36} {statistics.mean(loo):>11.4f} {statistics.mean(default):>10.4f}")
    print(f"{'worst':<10} {'':<36} {min(loo):>11.4f} {min(default):>10.4f}")
    print(f"({len(configs)} configurations x {len(SYSTEMS)} systems)")


if __name__ == "__main__":
    main()
