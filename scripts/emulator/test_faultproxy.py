"""Tests of the fault-injecting proxy, with boto3 as the client and the launcher as upstream.

botocore is an independent AWS client: a throttle that botocore classifies as throttling,
and a reset it sees as a dropped connection, are what the Rust SDK sees too (the Rust tests
under crates/helm-cloud/tests/it/faults.rs check that side).
Run: python -m unittest discover -s scripts/emulator -p 'test_*.py'
"""

import json
import os
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
import cbor2
from botocore.config import Config
from botocore.retries.standard import ThrottledRetryableChecker

from test_launcher import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
THROTTLE_CODES = ThrottledRetryableChecker._THROTTLED_ERROR_CODES


def wait_for(url):
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


class FaultProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator_port, cls.port = free_port(), free_port()
        cls.emulator = f"http://127.0.0.1:{cls.emulator_port}"
        cls.endpoint = f"http://127.0.0.1:{cls.port}"
        cls.procs = [
            subprocess.Popen([sys.executable, os.path.join(HERE, "launcher.py"), "--port", str(cls.emulator_port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen([sys.executable, os.path.join(HERE, "faultproxy.py"), "--port", str(cls.port),
                              "--upstream", cls.emulator], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]
        wait_for(cls.emulator + "/helm-emulator/ping")
        wait_for(cls.endpoint + "/helm-fault/ping")

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            p.terminate()
            p.wait(10)

    def setUp(self):
        self.rules([])
        urllib.request.urlopen(urllib.request.Request(self.endpoint + "/helm-fault/clear", data=b"", method="POST"))

    def rules(self, lines):
        req = urllib.request.Request(self.endpoint + "/helm-fault/rules", data=json.dumps(lines).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req)

    def stats(self):
        return json.load(urllib.request.urlopen(self.endpoint + "/helm-fault/stats"))

    def client(self, service, attempts=1, via_proxy=True):
        return boto3.client(service, endpoint_url=self.endpoint if via_proxy else self.emulator,
                            region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"total_max_attempts": attempts, "mode": "standard"},
                                          connect_timeout=2, read_timeout=10))

    def code_of(self, call):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            call()
        return e.exception.response["Error"]["Code"], e.exception.response["ResponseMetadata"]["HTTPStatusCode"]

    def test_throttling_has_each_protocols_own_shape_and_botocore_calls_it_throttling(self):
        self.rules(["* throttle"])
        cases = {
            "json (CloudWatch Logs)": lambda: self.client("logs").describe_log_groups(),
            "rest-json (Lambda)": lambda: self.client("lambda").list_functions(),
            "query (IAM)": lambda: self.client("iam").list_roles(),
            "query (STS)": lambda: self.client("sts").get_caller_identity(),
            "ec2 query (EC2)": lambda: self.client("ec2").describe_instances(),
            "rest-xml (S3)": lambda: self.client("s3").list_buckets(),
            "json 1.0 (DynamoDB)": lambda: self.client("dynamodb").list_tables(),
        }
        for name, call in cases.items():
            with self.subTest(name):
                code, status = self.code_of(call)
                self.assertIn(code, THROTTLE_CODES, f"{name}: {code} ({status})")
        self.assertEqual(self.code_of(cases["rest-json (Lambda)"])[1], 429)
        self.assertEqual(self.code_of(cases["rest-xml (S3)"]), ("SlowDown", 503))
        self.assertEqual(self.code_of(cases["ec2 query (EC2)"]), ("RequestLimitExceeded", 503))

    def test_cbor_throttling_is_cbor_with_the_query_compatible_code(self):
        self.rules(["GetMetricData@monitoring throttle"])
        req = urllib.request.Request(
            self.endpoint + "/service/GraniteServiceVersion20100801/operation/GetMetricData",
            data=cbor2.dumps({}), method="POST",
            headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                     "Authorization": "AWS4-HMAC-SHA256 Credential=t/20261201/us-east-1/monitoring/aws4_request, "
                                      "SignedHeaders=host, Signature=x"})
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req)
        self.assertEqual(e.exception.code, 400)
        self.assertEqual(e.exception.headers["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(e.exception.headers["x-amzn-query-error"], "Throttling;Sender")
        self.assertEqual(cbor2.loads(e.exception.read())["__type"], "ThrottlingException")

    def test_a_throttled_call_is_retried_by_botocore_and_then_succeeds(self):
        self.rules(["DescribeLogGroups throttle x2"])
        self.client("logs", attempts=3).describe_log_groups()
        self.assertEqual(self.stats()["counts"], {"DescribeLogGroups throttle": 2, "DescribeLogGroups none": 1})

    def test_500_and_503_are_server_errors(self):
        self.rules(["ListFunctions 500 x1", "ListFunctions 503 x1"])
        self.assertEqual(self.code_of(lambda: self.client("lambda").list_functions()), ("InternalFailure", 500))
        self.assertEqual(self.code_of(lambda: self.client("lambda").list_functions()), ("ServiceUnavailable", 503))
        self.client("lambda").list_functions()

    def test_reset_never_reaches_the_emulator(self):
        self.rules(["CreateLogGroup reset"])
        name = f"reset-{time.time_ns()}"
        with self.assertRaises(botocore.exceptions.ConnectionClosedError):
            self.client("logs").create_log_group(logGroupName=name)
        groups = self.client("logs", via_proxy=False).describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        self.assertEqual(groups, [])

    def test_lost_answer_is_applied_but_the_client_hears_nothing(self):
        self.rules(["CreateLogGroup lost"])
        name = f"lost-{time.time_ns()}"
        with self.assertRaises(botocore.exceptions.ConnectionClosedError):
            self.client("logs").create_log_group(logGroupName=name)
        groups = self.client("logs", via_proxy=False).describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], [name])

    def test_truncated_body_is_applied_and_fails_to_parse(self):
        name = f"trunc-{time.time_ns()}"
        self.client("logs").create_log_group(logGroupName=name)
        self.rules(["DescribeLogGroups truncate"])
        with self.assertRaises((botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)):
            self.client("logs").describe_log_groups(logGroupNamePrefix=name)
        self.assertEqual(self.stats()["counts"]["DescribeLogGroups truncate"], 1)

    def test_latency_holds_the_answer_back(self):
        self.rules(["ListTables latency 300ms"])
        start = time.monotonic()
        self.client("dynamodb").list_tables()
        self.assertGreaterEqual(time.monotonic() - start, 0.3)

    def test_down_refuses_every_connection_until_the_rule_goes(self):
        self.rules(["* down"])
        with self.assertRaises((botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError)):
            self.client("sts").get_caller_identity()
        self.rules([])
        self.assertEqual(self.client("sts").get_caller_identity()["Account"], "123456789012")

    def test_a_share_is_seeded_and_after_and_count_bound_a_rule(self):
        self.rules(["ListTables throttle 30%"])
        c = self.client("dynamodb")
        throttled = 0
        for _ in range(100):
            try:
                c.list_tables()
            except botocore.exceptions.ClientError:
                throttled += 1
        self.assertTrue(15 <= throttled <= 45, throttled)
        # The same rule again starts the same random stream: the same count.
        self.rules(["ListTables throttle 30%"])
        again = 0
        for _ in range(100):
            try:
                c.list_tables()
            except botocore.exceptions.ClientError:
                again += 1
        self.assertEqual(again, throttled)
        self.rules(["ListTables 500 after 2 x1"])
        results = []
        for _ in range(4):
            try:
                c.list_tables()
                results.append("ok")
            except botocore.exceptions.ClientError as e:
                results.append(e.response["Error"]["Code"])
        self.assertEqual(results, ["ok", "ok", "InternalFailure", "ok"])

    def test_a_bad_rule_is_refused_with_what_to_write(self):
        out = subprocess.run([sys.executable, os.path.join(HERE, "faultproxy.py"), "--port", "1", "--upstream",
                              "http://127.0.0.1:1", "--rules", "GetMetricData explode"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 64)
        self.assertIn("'explode' is not one of throttle", out.stderr)
        req = urllib.request.Request(self.endpoint + "/helm-fault/rules", data=b'["GetMetricData throttle 130%"]',
                                     method="POST")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req)
        self.assertEqual(e.exception.code, 400)


if __name__ == "__main__":
    unittest.main()
