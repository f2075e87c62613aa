"""The naive SLO evaluator the `slo`/`watch` benchmark compares against: every cycle it
reads every burn-rate window (5m, 30m, 1h, 2h, 6h, 1d, 3d) and the 30-day period afresh,
for the same series helm-cloud reads (Lambda availability and latency, S3 latency), in
5-minute buckets, batching up to 500 series a GetMetricData call as the API allows.

usage: slo_naive.py ENDPOINT deployments.json NOW_RFC3339
prints: series=… requests=… datapoints=… wall_s=…
"""

import datetime as dt
import json
import sys
import time

import boto3

WINDOWS = [300, 1800, 3600, 7200, 21600, 86400, 259200, 30 * 86400]


def series(resources):
    out = []
    for r in resources:
        if r["type"] == "lambda":
            d = [{"Name": "FunctionName", "Value": r["arn"].rsplit(":", 1)[-1]}]
            for name, stat in [("Errors", "Sum"), ("Invocations", "Sum"), ("Duration", "PR(:200)"), ("Duration", "SampleCount")]:
                out.append(("AWS/Lambda", name, d, stat))
        elif r["type"] == "s3":
            d = [{"Name": "BucketName", "Value": r["arn"].split(":::")[-1]}, {"Name": "FilterId", "Value": "EntireBucket"}]
            for stat in ["PR(:50)", "SampleCount"]:
                out.append(("AWS/S3", "FirstByteLatency", d, stat))
    return out


def main():
    endpoint, registry, now = sys.argv[1], sys.argv[2], sys.argv[3]
    end = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
    resources = [r for d in json.load(open(registry))["deployments"] for r in d["resources"]]
    qs = series(resources)
    cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1")
    requests = datapoints = 0
    start = time.monotonic()
    for w in WINDOWS:
        for i in range(0, len(qs), 500):
            batch = qs[i:i + 500]
            queries = [{"Id": f"q{j}", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name, "Dimensions": dims},
                                                     "Period": 300, "Stat": stat}}
                       for j, (ns, name, dims, stat) in enumerate(batch)]
            token = None
            while True:
                kw = {"NextToken": token} if token else {}
                cw.get_metric_data(MetricDataQueries=queries, StartTime=end - dt.timedelta(seconds=w), EndTime=end, **kw)
                requests += 1
                token = None
                break
            datapoints += len(batch) * (w // 300)
    print(f"series={len(qs)} requests={requests} datapoints={datapoints} wall_s={time.monotonic() - start:.2f}")


if __name__ == "__main__":
    main()
