"""Tests of the emulator launcher's patches, against a launcher started on a free port.

Each test pins down the AWS behaviour a patch supplies; the Rust tests rely on them.
Run: python -m unittest discover -s scripts/emulator -p 'test_*.py'
"""

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
import cbor2

HERE = os.path.dirname(os.path.abspath(__file__))
AUTH = "AWS4-HMAC-SHA256 Credential=testing/20261127/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=x"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class LauncherTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.endpoint = f"http://127.0.0.1:{cls.port}"
        cls.log = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "launcher.py"), "--port", str(cls.port), "--request-log", cls.log],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(cls.endpoint + "/helm-emulator/ping", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("launcher did not start")
        kw = dict(endpoint_url=cls.endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        cls.cw = boto3.client("cloudwatch", **kw)
        cls.ce = boto3.client("ce", **kw)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        os.unlink(cls.log)

    def cbor(self, operation, body, region="us-east-1"):
        req = urllib.request.Request(
            f"{self.endpoint}/service/GraniteServiceVersion20100801/operation/{operation}",
            data=cbor2.dumps(body, datetime_as_timestamp=True, timezone=dt.timezone.utc),
            method="POST",
            headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor",
                     "Authorization": AUTH.replace("/us-east-1/", f"/{region}/")},
        )
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.headers, cbor2.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, e.headers, cbor2.loads(e.read())

    def put_durations(self, function, values):
        t = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
        self.cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
            {"MetricName": "Duration", "Dimensions": [{"Name": "FunctionName", "Value": function}], "Timestamp": t, "Values": values}
        ])

    def query(self, function, stat):
        return {"Id": "q", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Duration",
                "Dimensions": [{"Name": "FunctionName", "Value": function}]}, "Period": 3600, "Stat": stat}}

    def test_cbor_request_gets_a_cbor_answer_with_timestamps_as_tag_1(self):
        self.put_durations("cbor-fn", [10.0, 20.0])
        now = dt.datetime.now(dt.timezone.utc)
        status, headers, body = self.cbor("GetMetricData", {
            "MetricDataQueries": [self.query("cbor-fn", "Average")],
            "StartTime": now - dt.timedelta(hours=1), "EndTime": now,
        })
        self.assertEqual(status, 200)
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(headers["Content-Type"], "application/cbor")
        result = body["MetricDataResults"][0]
        self.assertEqual(result["Values"], [15.0])
        self.assertIsInstance(result["Values"][0], float)
        self.assertIsInstance(result["Timestamps"][0], dt.datetime)

    def test_percentiles_are_nearest_rank_over_raw_values(self):
        self.put_durations("pct-fn", [float(v) for v in range(1, 101)])
        now = dt.datetime.now(dt.timezone.utc)
        for stat, expected in [("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("p99.9", 100.0)]:
            _, _, body = self.cbor("GetMetricData", {
                "MetricDataQueries": [self.query("pct-fn", stat)],
                "StartTime": now - dt.timedelta(hours=1), "EndTime": now,
            })
            self.assertEqual(body["MetricDataResults"][0]["Values"], [expected], stat)

    def test_percentile_rank_is_the_share_of_values_in_range(self):
        self.put_durations("rank-fn", [float(v) for v in range(1, 101)])
        now = dt.datetime.now(dt.timezone.utc)
        for stat, expected in [("PR(:95)", 95.0), ("PR(:0.5)", 0.0), ("PR(10:20)", 10.0), ("PR(90:)", 10.0)]:
            _, _, body = self.cbor("GetMetricData", {
                "MetricDataQueries": [self.query("rank-fn", stat)],
                "StartTime": now - dt.timedelta(hours=1), "EndTime": now,
            })
            self.assertEqual(body["MetricDataResults"][0]["Values"], [expected], stat)

    def test_errors_keep_their_type(self):
        status, headers, body = self.cbor("DeleteDashboards", {"DashboardNames": ["no-such-dashboard"]})
        self.assertGreaterEqual(status, 400)
        self.assertIn("__type", body)

    def test_alarms_round_trip_over_cbor(self):
        status, _, _ = self.cbor("PutMetricAlarm", {
            "AlarmName": "cbor-alarm", "MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "Sum",
            "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold",
            "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
        })
        self.assertEqual(status, 200)
        self.cbor("SetAlarmState", {"AlarmName": "cbor-alarm", "StateValue": "ALARM", "StateReason": "test"})
        _, _, body = self.cbor("DescribeAlarms", {"AlarmNames": ["cbor-alarm"]})
        alarm = body["MetricAlarms"][0]
        self.assertEqual(alarm["StateValue"], "ALARM")
        self.assertIsInstance(alarm["StateUpdatedTimestamp"], dt.datetime)
        self.assertIsInstance(alarm["Threshold"], float)

    def seed_costs(self, account, rows):
        req = urllib.request.Request(
            self.endpoint + "/helm-emulator/ce/daily-costs", method="POST",
            data=json.dumps({"account": account, "costs": rows}).encode(),
        )
        urllib.request.urlopen(req).read()

    def test_cost_and_usage_follows_the_requested_period_granularity_and_grouping(self):
        self.seed_costs("123456789012", [
            {"date": "2026-10-30", "service": "AWS Lambda", "amount": 1.0},
            {"date": "2026-10-31", "service": "AWS Lambda", "amount": 2.0},
            {"date": "2026-11-01", "service": "AWS Lambda", "amount": 4.0},
            {"date": "2026-11-01", "service": "Amazon RDS", "amount": 8.0},
        ])
        daily = self.ce.get_cost_and_usage(
            TimePeriod={"Start": "2026-10-31", "End": "2026-11-02"}, Granularity="DAILY",
            Metrics=["UnblendedCost"], GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
        )["ResultsByTime"]
        self.assertEqual([r["TimePeriod"]["Start"] for r in daily], ["2026-10-31", "2026-11-01"])
        self.assertEqual({g["Keys"][0]: float(g["Metrics"]["UnblendedCost"]["Amount"]) for g in daily[1]["Groups"]},
                         {"AWS Lambda": 4.0, "Amazon RDS": 8.0})
        monthly = self.ce.get_cost_and_usage(
            TimePeriod={"Start": "2026-10-01", "End": "2026-11-15"}, Granularity="MONTHLY", Metrics=["UnblendedCost"],
        )["ResultsByTime"]
        self.assertEqual([float(r["Total"]["UnblendedCost"]["Amount"]) for r in monthly], [3.0, 12.0])
        # Asking twice gives the same answer (moto's own queue would hand out the next one).
        again = self.ce.get_cost_and_usage(
            TimePeriod={"Start": "2026-10-01", "End": "2026-11-15"}, Granularity="MONTHLY", Metrics=["UnblendedCost"],
        )["ResultsByTime"]
        self.assertEqual(monthly, again)

    def post(self, path, doc):
        req = urllib.request.Request(self.endpoint + path, method="POST", data=json.dumps(doc).encode())
        return json.loads(urllib.request.urlopen(req).read())

    def test_faults_answer_in_the_protocol_of_the_request_and_can_be_cleared(self):
        self.post("/helm-emulator/faults", {"region": "eu-west-3", "code": "AccessDeniedException", "status": 403})
        try:
            kw = dict(endpoint_url=self.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
            for service, call in [
                ("lambda", lambda c: c.list_functions()),
                ("rds", lambda c: c.describe_db_instances()),
                ("dynamodb", lambda c: c.list_tables()),
                ("cloudwatch", lambda c: c.describe_alarms()),
            ]:
                with self.assertRaises(Exception) as ctx:
                    call(boto3.client(service, region_name="eu-west-3", **kw))
                self.assertIn("AccessDenied", str(ctx.exception), service)
                call(boto3.client(service, region_name="us-east-1", **kw))  # other regions unaffected
        finally:
            self.post("/helm-emulator/faults", {"faults": []})
        boto3.client("lambda", region_name="eu-west-3", endpoint_url=self.endpoint,
                     aws_access_key_id="testing", aws_secret_access_key="testing").list_functions()

    def test_a_match_fault_forbids_only_the_matching_metric_queries(self):
        self.put_durations("visible-fn", [5.0])
        self.put_durations("secret-fn", [7.0])
        self.post("/helm-emulator/faults", {"match": "secret-fn"})
        try:
            now = dt.datetime.now(dt.timezone.utc)
            q2 = self.query("secret-fn", "Average")
            q2["Id"] = "s"
            _, _, body = self.cbor("GetMetricData", {
                "MetricDataQueries": [self.query("visible-fn", "Average"), q2],
                "StartTime": now - dt.timedelta(hours=1), "EndTime": now,
            })
            by_id = {r["Id"]: r for r in body["MetricDataResults"]}
            self.assertEqual(by_id["q"]["Values"], [5.0])
            self.assertEqual(by_id["q"]["StatusCode"], "Complete")
            self.assertEqual(by_id["s"]["StatusCode"], "Forbidden")
            self.assertEqual(by_id["s"]["Values"], [])
        finally:
            self.post("/helm-emulator/faults", {"faults": []})

    def test_an_operation_fault_fails_that_operation_whole_and_nothing_else(self):
        self.post("/helm-emulator/faults", {"region": "ap-east-1", "operation": "GetMetricData",
                                            "code": "ServiceUnavailable", "status": 503})
        try:
            now = dt.datetime.now(dt.timezone.utc)
            status, _, body = self.cbor("GetMetricData", {
                "MetricDataQueries": [self.query("any-fn", "Average")],
                "StartTime": now - dt.timedelta(hours=1), "EndTime": now,
            }, region="ap-east-1")
            self.assertEqual(status, 503)
            self.assertEqual(body["__type"], "ServiceUnavailable")
            status, _, _ = self.cbor("DescribeAlarms", {}, region="ap-east-1")
            self.assertEqual(status, 200)
            status, _, _ = self.cbor("GetMetricData", {
                "MetricDataQueries": [self.query("any-fn", "Average")],
                "StartTime": now - dt.timedelta(hours=1), "EndTime": now,
            })
            self.assertEqual(status, 200, "other regions unaffected")
        finally:
            self.post("/helm-emulator/faults", {"faults": []})

    def _client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def test_lambda_account_settings_answer_the_quota_less_what_is_reserved(self):
        iam, lam = self._client("iam"), self._client("lambda")
        role = iam.create_role(RoleName="acct-settings", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        before = lam.get_account_settings()["AccountLimit"]
        self.assertEqual(before["ConcurrentExecutions"], 1000)
        lam.create_function(FunctionName="acct-settings-fn", Runtime="python3.12", Role=role,
                            Handler="x.y", Code={"ZipFile": b"x"})
        lam.put_function_concurrency(FunctionName="acct-settings-fn", ReservedConcurrentExecutions=300)
        after = lam.get_account_settings()["AccountLimit"]
        self.assertEqual(after["UnreservedConcurrentExecutions"], before["UnreservedConcurrentExecutions"] - 300)
        # moto itself enforces the 100 that stay unreserved.
        with self.assertRaises(lam.exceptions.InvalidParameterValueException):
            lam.put_function_concurrency(FunctionName="acct-settings-fn", ReservedConcurrentExecutions=950)

    def test_a_lambda_update_changes_the_revision_and_a_stale_revision_is_refused(self):
        iam, lam = self._client("iam"), self._client("lambda")
        role = iam.create_role(RoleName="revision-guard", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam.create_function(FunctionName="revision-fn", Runtime="python3.12", Role=role,
                            Handler="x.y", Code={"ZipFile": b"x"})
        first = lam.get_function_configuration(FunctionName="revision-fn")["RevisionId"]
        second = lam.update_function_configuration(FunctionName="revision-fn", MemorySize=256,
                                                   RevisionId=first)["RevisionId"]
        self.assertNotEqual(second, first)
        self.assertEqual(lam.get_function_configuration(FunctionName="revision-fn")["RevisionId"], second)
        with self.assertRaises(lam.exceptions.PreconditionFailedException):
            lam.update_function_configuration(FunctionName="revision-fn", MemorySize=512, RevisionId=first)
        self.assertEqual(lam.get_function_configuration(FunctionName="revision-fn")["MemorySize"], 256)

    def test_a_reboot_leaves_a_restart_event(self):
        rds = self._client("rds")
        rds.create_db_instance(DBInstanceIdentifier="reboot-ev", DBInstanceClass="db.t3.micro", Engine="postgres",
                               MasterUsername="u", MasterUserPassword="password123", AllocatedStorage=20)
        def restarts():
            events = rds.describe_events(SourceType="db-instance", SourceIdentifier="reboot-ev")["Events"]
            return [e for e in events if e["Message"] == "DB instance restarted"]
        self.assertEqual(restarts(), [])
        rds.reboot_db_instance(DBInstanceIdentifier="reboot-ev")
        self.assertEqual(len(restarts()), 1)
        self.assertEqual(restarts()[0]["EventCategories"], ["availability"])

    def test_request_log_names_service_and_operation(self):
        self.cbor("ListMetrics", {})
        boto3.client("sts", endpoint_url=self.endpoint, region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing").get_caller_identity()
        with open(self.log) as f:
            lines = [json.loads(line) for line in f]
        ops = {(entry["service"], entry["operation"]) for entry in lines}
        self.assertIn(("monitoring", "ListMetrics"), ops)
        self.assertIn(("sts", "GetCallerIdentity"), ops)


if __name__ == "__main__":
    unittest.main()
