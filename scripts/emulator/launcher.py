"""Start moto's server with the few patches helm-cloud's tests need.

moto (PyPI `moto[server]`) is a real implementation of the AWS wire protocols, but a few
gaps would make our tests depend on moto rather than on AWS. Each patch below says what
AWS does and what moto does instead; see ../../shared/EMULATOR.md (measured).

Usage: launcher.py --port PORT [--host 127.0.0.1] [--request-log FILE]

Extra endpoints (not AWS, only for seeding tests and demos):
  POST /helm-emulator/ce/daily-costs   {"costs": [{"date": "2026-11-01", "service": "AWS Lambda",
                                          "amount": 1.25}], "account": "123456789012"}
  POST /helm-emulator/faults           {"region": "eu-west-3", "code": "AccessDeniedException",
                                        "message": "...", "status": 403}  or {"match": "name", ...}
                                        or {"operation": "GetMetricData", ...} (with or without region);
                                        an empty list ({"faults": []}) clears them
  POST /helm-emulator/iam/age          {"user": "u", "days": 100, "password_last_used_days_ago": 60,
                                        "key_last_used_days_ago": 50}: back-date a user's credentials
  GET  /helm-emulator/ping             "ok" once the server answers
"""

import argparse
import base64
import datetime as dt
import io
import json
import math
import os
import re
import sys
import threading
from collections import defaultdict

import cbor2

import parent
from botocore.session import get_session
from werkzeug.serving import run_simple

from moto.cloudwatch import models as cw_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

DEFAULT_ACCOUNT = "123456789012"

# --------------------------------------------------------------------------------------
# Patch 1: percentile statistics in GetMetricData / GetMetricStatistics.
# AWS answers `p95`, `p99`, `p99.9` from the stored samples; moto returns None for any
# statistic it does not know and the whole request fails with HTTP 500. moto keeps every
# raw value (a `Values`/`Counts` put is expanded into single values), so nearest-rank
# percentiles over the period's raw values are exact for the data we seed.
# Percentile rank too: `PR(:200)` is the percent of the period's values at or under 200,
# `PR(10:200)` of those over 10 and at or under 200 (CloudWatch's percentile-rank statistic,
# which `slo` reads for latency objectives).
# --------------------------------------------------------------------------------------
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_RANK = re.compile(r"^PR\((\d+(?:\.\d+)?)?:(\d+(?:\.\d+)?)?\)$")
_original_stat = cw_models.Statistics.get_statistics_for_type


def _stat_with_percentiles(self, stat):
    r = _RANK.match(stat or "")
    if r:
        values = self.metric_single_values_list
        if not values:
            return None
        low = float(r.group(1)) if r.group(1) else float("-inf")
        high = float(r.group(2)) if r.group(2) else float("inf")
        inside = sum(1 for v in values if low < v <= high)
        return 100.0 * inside / len(values)
    m = _PERCENTILE.match(stat or "")
    if not m:
        return _original_stat(self, stat)
    values = sorted(self.metric_single_values_list)
    if not values:
        # Only aggregated (StatisticValues) data: AWS cannot give a percentile either.
        return None
    # Nearest rank: the smallest value with at least q% of the samples at or below it.
    rank = max(1, math.ceil(float(m.group(1)) * len(values) / 100))
    return values[min(rank, len(values)) - 1]


cw_models.Statistics.get_statistics_for_type = _stat_with_percentiles


# --------------------------------------------------------------------------------------
# Patch 1b: GetMetricData in one pass over the data, not one pass per period.
# moto scans every datum of the account once per period of every query, so 30 days at
# 5-minute periods (8,640 periods, what `slo` reads) over a few thousand datums takes
# minutes. Same answers, same quirks (with dimensions, moto matches the name and the
# dimensions but not the namespace): the query's datums are taken once and grouped by
# period. Metric math and Metric Insights queries keep moto's own path.
# --------------------------------------------------------------------------------------
_original_get_metric_data = cw_models.CloudWatchBackend.get_metric_data


def _get_metric_data_indexed(self, queries, start_time, end_time, scan_by="TimestampAscending"):
    if any("MetricStat" not in q for q in queries):
        return _original_get_metric_data(self, queries, start_time, end_time, scan_by)
    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    if start_time >= end_time:
        return _original_get_metric_data(self, queries, start_time, end_time, scan_by)
    by_name = defaultdict(list)
    for md in self.get_all_metrics():
        if start_time <= md.timestamp < end_time:
            by_name[md.name].append(md)
    out = []
    for query in queries:
        ms = query["MetricStat"]
        ns, name = ms["Metric"]["Namespace"], ms["Metric"]["MetricName"]
        delta = int(ms["Period"])
        dims = sorted(cw_models.Dimension(name=d["Name"], value=d["Value"]) for d in ms["Metric"].get("Dimensions", []))
        if dims:
            data = [md for md in by_name.get(name, []) if sorted(md.dimensions) == dims]
        else:
            data = [md for md in by_name.get(name, []) if md.namespace == ns]
        if ms.get("Unit"):
            data = [md for md in data if md.unit == ms["Unit"]]
        periods = defaultdict(list)
        for md in data:
            periods[int((md.timestamp - start_time).total_seconds()) // delta].append(md)
        values, timestamps = [], []
        for k in sorted(periods):
            stats = cw_models.Statistics([ms["Stat"]], start_time + dt.timedelta(seconds=k * delta))
            stats.metric_data = periods[k]
            values.append(stats.get_statistics_for_type(ms["Stat"]))
            timestamps.append(stats.timestamp)
        if scan_by == "TimestampDescending":
            values.reverse()
            timestamps.reverse()
        if query.get("ReturnData", True):
            out.append({"id": query["Id"], "label": query.get("Label") or f"{name} {ms['Stat']}",
                        "values": values, "timestamps": timestamps, "status_code": "Complete"})
    return out


cw_models.CloudWatchBackend.get_metric_data = _get_metric_data_indexed


# --------------------------------------------------------------------------------------
# Patch 2: Smithy RPCv2 CBOR for CloudWatch.
# aws-sdk-cloudwatch >= 1.100 sends `POST /service/GraniteServiceVersion20100801/operation/Op`
# with a CBOR body and `smithy-protocol: rpc-v2-cbor`; AWS answers in kind. moto speaks only
# JSON 1.0 for CloudWatch. We decode the CBOR request, forward it as JSON 1.0 with the
# target header, and encode moto's JSON answer back as CBOR, driven by botocore's model of
# the service so every member gets its modelled type (timestamps as CBOR tag 1, doubles as
# floats, blobs as byte strings).
# --------------------------------------------------------------------------------------
_CBOR_PATH = re.compile(r"^/service/([A-Za-z0-9_]+)/operation/([A-Za-z0-9_]+)$")
_SERVICE_BY_TARGET_PREFIX = {"GraniteServiceVersion20100801": "cloudwatch"}
_models = {}
_models_lock = threading.Lock()


def _service_model(name):
    with _models_lock:
        if name not in _models:
            _models[name] = get_session().get_service_model(name)
        return _models[name]


def _to_json_value(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json_value(v) for v in value]
    return value


def _to_cbor_value(value, shape):
    if value is None or shape is None:
        return value
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            return value
        return {
            k: _to_cbor_value(v, shape.members.get(k))
            for k, v in value.items()
        }
    if t == "list":
        return [_to_cbor_value(v, shape.member) for v in value]
    if t == "map":
        return {k: _to_cbor_value(v, shape.value) for k, v in value.items()}
    if t == "timestamp":
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value
    if t in ("double", "float"):
        return float(value)
    if t in ("integer", "long", "short", "byte"):
        return int(value)
    if t == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


def _call(app, environ):
    """Run the inner WSGI app and return (status, headers, body)."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = headers
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], body


def _read_body(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _cbor_bridge(app, environ, start_response, prefix, operation):
    service = _SERVICE_BY_TARGET_PREFIX[prefix]
    raw = _read_body(environ)
    request = cbor2.loads(raw) if raw else {}
    body = json.dumps(_to_json_value(request or {})).encode()
    inner = dict(environ)
    inner["PATH_INFO"] = "/"
    inner["RAW_URI"] = "/"
    inner["REQUEST_URI"] = "/"
    inner["QUERY_STRING"] = ""
    inner["CONTENT_TYPE"] = "application/x-amz-json-1.0"
    inner["HTTP_CONTENT_TYPE"] = "application/x-amz-json-1.0"
    inner["HTTP_X_AMZ_TARGET"] = f"{prefix}.{operation}"
    inner["CONTENT_LENGTH"] = str(len(body))
    inner["wsgi.input"] = io.BytesIO(body)
    status, _headers, out = _call(app, inner)
    try:
        answer = json.loads(out) if out.strip() else {}
    except ValueError:
        # moto answers unimplemented operations with an HTML page: pass it on as an error.
        answer = {"__type": "InternalFailure", "message": out.decode(errors="replace")[:500]}
    if status.startswith("2") and operation == "GetMetricData":
        answer = _forbid_matching_queries(request or {}, answer)
    if status.startswith("2"):
        op_model = _service_model(service).operation_model(operation)
        answer = _to_cbor_value(answer, op_model.output_shape) if op_model.output_shape else {}
    elif "__type" not in answer:
        code = answer.get("Error", {}).get("Code") or answer.get("code") or "InternalFailure"
        answer = {"__type": code, "message": answer.get("message") or answer.get("Message", "")}
    encoded = cbor2.dumps(answer, datetime_as_timestamp=True, timezone=dt.timezone.utc)
    start_response(
        status,
        [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(encoded))),
        ],
    )
    return [encoded]


# --------------------------------------------------------------------------------------
# Patch 3: Cost Explorer data that follows the requested period.
# AWS answers GetCostAndUsage from the account's billing data for the requested TimePeriod
# (End exclusive), Granularity and GroupBy. moto hands out canned answers in call order,
# whatever the request asks. Once a test seeds daily costs per service here, the launcher
# answers from them; without seeded data moto's own behaviour is untouched.
# --------------------------------------------------------------------------------------
_costs = defaultdict(dict)  # account -> {(date, service): amount}
_costs_lock = threading.Lock()


def _account_of(environ):
    return environ.get("HTTP_X_MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT


def _seed_costs(environ, start_response):
    payload = json.loads(_read_body(environ) or b"{}")
    account = payload.get("account") or _account_of(environ)
    with _costs_lock:
        for row in payload.get("costs", []):
            _costs[account][(row["date"], row["service"])] = float(row["amount"])
        count = len(_costs[account])
    return _json(start_response, "200 OK", {"account": account, "rows": count})


def _month_end(day):
    nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt


def _get_cost_and_usage(environ, start_response, rows):
    req = json.loads(_read_body(environ) or b"{}")
    start = dt.date.fromisoformat(req["TimePeriod"]["Start"])
    end = dt.date.fromisoformat(req["TimePeriod"]["End"])
    granularity = req.get("Granularity", "DAILY")
    metrics = req.get("Metrics") or ["UnblendedCost"]
    by_service = any(g.get("Key") == "SERVICE" for g in req.get("GroupBy") or [])
    buckets = []
    cursor = start
    while cursor < end:
        nxt = cursor + dt.timedelta(days=1) if granularity == "DAILY" else min(_month_end(cursor), end)
        buckets.append((cursor, nxt))
        cursor = nxt
    results = []
    for b_start, b_end in buckets:
        per_service = defaultdict(float)
        for (day, service), amount in rows.items():
            if b_start <= dt.date.fromisoformat(day) < b_end:
                per_service[service] += amount
        total = sum(per_service.values())

        def amounts(value):
            return {m: {"Amount": f"{value:.10f}", "Unit": "USD"} for m in metrics}

        entry = {
            "TimePeriod": {"Start": b_start.isoformat(), "End": b_end.isoformat()},
            "Total": {} if by_service else amounts(total),
            "Groups": [
                {"Keys": [s], "Metrics": amounts(v)} for s, v in sorted(per_service.items())
            ]
            if by_service
            else [],
            "Estimated": b_end > dt.date.today(),
        }
        results.append(entry)
    return _json(
        start_response,
        "200 OK",
        {"ResultsByTime": results, "DimensionValueAttributes": [], "GroupDefinitions": req.get("GroupBy") or []},
        content_type="application/x-amz-json-1.1",
    )


def _json(start_response, status, doc, content_type="application/json"):
    body = json.dumps(doc).encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


# --------------------------------------------------------------------------------------
# Patch 4: Lambda GetAccountSettings (`GET /2016-08-19/account-settings/`).
# AWS answers the account's concurrency limit and what is still unreserved; moto does not
# implement the call (404). We answer it from the quota moto itself enforces
# (MOTO_LAMBDA_CONCURRENCY_QUOTA, 1000 like a new AWS account) less the functions' reserved
# concurrency, so a remediation can be checked against the account's limit.
# --------------------------------------------------------------------------------------
def _lambda_account_settings(environ, start_response):
    from moto.awslambda.models import lambda_backends

    quota = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000"))
    backend = lambda_backends[_account_of(environ)][_region_of(environ) or "us-east-1"]
    reserved = sum(int(f.reserved_concurrency or 0) for f in backend.list_functions())
    return _json(start_response, "200 OK", {
        "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                         "CodeSizeZipped": 52428800, "ConcurrentExecutions": quota,
                         "UnreservedConcurrentExecutions": quota - reserved},
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(backend.list_functions())},
    })


# --------------------------------------------------------------------------------------
# Patch 5: RDS reboot events.
# AWS records "DB instance restarted" (RDS-EVENT-0006, category availability) when a
# RebootDBInstance completes, and DescribeEvents returns it; moto's reboot changes nothing
# and records no event, so a reboot would leave no evidence at all. We record the event.
# --------------------------------------------------------------------------------------
from moto.rds import models as rds_models  # noqa: E402

rds_models.Event.EVENT_MAP.setdefault(
    "DB_INSTANCE_RESTART", {"Categories": ["availability"], "Message": "DB instance restarted"}
)
_original_reboot = rds_models.RDSBackend.reboot_db_instance


def _reboot_with_event(self, db_instance_identifier):
    database = _original_reboot(self, db_instance_identifier)
    database.add_event("DB_INSTANCE_RESTART")
    return database


rds_models.RDSBackend.reboot_db_instance = _reboot_with_event


# --------------------------------------------------------------------------------------
# Patch: Lambda's RevisionId guard. AWS gives a function a revision id, a new one at every
# configuration change, and refuses UpdateFunctionConfiguration with HTTP 412
# PreconditionFailedException when the RevisionId sent is not the latest; moto's functions
# have no revision id and the one sent is ignored, so the guard restart_lambda relies on
# (and the retry of an update whose answer was lost) could not be tested.
# --------------------------------------------------------------------------------------
from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import PreconditionFailedException
import uuid as _uuid

_original_update_config = lambda_models.LambdaBackend.update_function_configuration
_original_get_configuration = lambda_models.LambdaFunction.get_configuration


def _revision_of(fn):
    if not getattr(fn, "helm_revision_id", None):
        fn.helm_revision_id = str(_uuid.uuid4())
    return fn.helm_revision_id


def _configuration_with_revision(self, *args, **kwargs):
    config = _original_get_configuration(self, *args, **kwargs)
    config["RevisionId"] = _revision_of(self)
    return config


def _update_config_guarded(self, function_name, qualifier, body):
    fn = self.get_function(function_name, qualifier)
    sent = body.get("RevisionId")
    if sent and sent != _revision_of(fn):
        raise PreconditionFailedException(
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
    out = _original_update_config(self, function_name, qualifier, {k: v for k, v in body.items() if k != "RevisionId"})
    fn.helm_revision_id = str(_uuid.uuid4())
    return fn.get_configuration() if out is not None else out


lambda_models.LambdaFunction.get_configuration = _configuration_with_revision
lambda_models.LambdaBackend.update_function_configuration = _update_config_guarded


# --------------------------------------------------------------------------------------
# Patch: the EBS default key is AWS-managed. AWS creates `alias/aws/ebs` as an AWS managed
# key (KeyManager AWS, rotated by AWS every year) the first time an encrypted volume is made
# without a key; moto creates it as a CUSTOMER key without rotation, so every account that
# encrypts its volumes would fail the customer-key rotation check.
# --------------------------------------------------------------------------------------
from moto.ec2.models import elastic_block_store as ebs_models  # noqa: E402

_original_default_key = ebs_models.EBSBackend._create_default_encryption_key


def _default_key_aws_managed(self):
    from moto.kms import kms_backends
    arn = _original_default_key(self)
    key = kms_backends[self.account_id][self.region_name].describe_key(arn)
    key.key_manager = "AWS"
    return arn


ebs_models.EBSBackend._create_default_encryption_key = _default_key_aws_managed


# --------------------------------------------------------------------------------------
# Patch: IAM server certificates' expiry. AWS answers each certificate's Expiration from
# the certificate itself (its notAfter); moto answers 2012-05-08 for every one, so every
# certificate would look expired and the expired-certificate check could never pass.
# --------------------------------------------------------------------------------------
from moto.iam import responses as iam_responses  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402

_original_list_server_certificates = iam_responses.IamResponse.list_server_certificates


def _not_after(body):
    from cryptography import x509
    try:
        cert = x509.load_pem_x509_certificate(body.encode())
    except Exception:  # a body moto accepted but that is no PEM certificate
        return None
    return cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _list_server_certificates_with_expiry(self):
    result = _original_list_server_certificates(self)
    certs = {c.cert_name: c for c in self.backend.list_server_certificates()}
    for meta in result.result["ServerCertificateMetadataList"]:
        cert = certs.get(meta["ServerCertificateName"])
        expires = cert and _not_after(cert.cert_body or "")
        if expires:
            meta["Expiration"] = expires
    return result


iam_responses.IamResponse.list_server_certificates = _list_server_certificates_with_expiry


def _age_iam_user(environ, start_response):
    """Seeding hook (not AWS): make a user's credentials `days` older, as a real account's
    are after months of use (moto dates every key and user at the call that made it).
    Body: {"user": "u", "days": 100, "password_last_used_days_ago": 60 (optional),
    "key_last_used_days_ago": 50 (optional)}."""
    payload = json.loads(_read_body(environ) or b"{}")
    backend = iam_backends[_account_of(environ)]["aws"]
    user = backend.users.get(payload.get("user"))
    if user is None:
        return _json(start_response, "404 Not Found", {"error": "no such user"})
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    delta = dt.timedelta(days=float(payload.get("days", 0)))
    user.create_date = user.create_date - delta
    for key in user.access_keys:
        key.create_date = key.create_date - delta
        if payload.get("key_last_used_days_ago") is not None:
            from moto.iam.models import AccessKeyLastUsed
            key.last_used = AccessKeyLastUsed(
                timestamp=now - dt.timedelta(days=float(payload["key_last_used_days_ago"])),
                service="s3", region="us-east-1")
    if payload.get("password_last_used_days_ago") is not None:
        user.password_last_used = now - dt.timedelta(days=float(payload["password_last_used_days_ago"]))
    return _json(start_response, "200 OK", {"user": user.name, "keys": len(user.access_keys)})


# --------------------------------------------------------------------------------------
# Fault injection (not a moto patch: AWS fails in ways moto never does). A fault matches a
# request by the region of its signature and/or a string in its path or body, and answers
# with the AWS error shape of the request's protocol. For GetMetricData a `match` fault
# instead marks the matching queries `Forbidden`, as CloudWatch does for metrics the caller
# may not read, and the rest of the batch is answered normally.
# --------------------------------------------------------------------------------------
_faults = []
_faults_lock = threading.Lock()


def _set_faults(environ, start_response):
    payload = json.loads(_read_body(environ) or b"{}")
    with _faults_lock:
        if "faults" in payload:
            _faults[:] = payload["faults"]
        else:
            _faults.append(payload)
        n = len(_faults)
    return _json(start_response, "200 OK", {"faults": n})


def _region_of(environ):
    m = re.search(r"Credential=[^/]+/\d+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return m.group(1) if m else None


def _fault_for(environ, body, whole_request=True, operation=None):
    with _faults_lock:
        faults = list(_faults)
    region = _region_of(environ)
    text = environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", "") + body.decode("utf-8", "replace")
    for f in faults:
        if f.get("region") and f["region"] != region:
            continue
        # `operation` fails the whole request of that operation (GetMetricData included).
        if f.get("operation") and f["operation"] != operation:
            continue
        if f.get("match") and (f["match"] not in text or not whole_request):
            continue
        if not f.get("region") and not f.get("match") and not f.get("operation"):
            continue
        return f
    return None


def _fault_response(environ, start_response, fault):
    code = fault.get("code", "AccessDeniedException")
    message = fault.get("message", "injected fault: not authorized to perform this action")
    status = f"{fault.get('status', 403)} Fault"
    path = environ.get("PATH_INFO", "")
    if _CBOR_PATH.match(path):
        body = cbor2.dumps({"__type": code, "message": message})
        headers = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    elif environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1")]
    elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded") or _query_action(environ):
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>fault</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml")]
    elif path.startswith("/2015-03-31/") or path.startswith("/restapis"):
        body = json.dumps({"message": message, "Message": message}).encode()
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    else:
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        headers = [("Content-Type", "application/xml")]
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [body]


def _forbid_matching_queries(request, answer):
    """GetMetricData: results of queries that mention a `match` fault become Forbidden."""
    with _faults_lock:
        matches = [f["match"] for f in _faults if f.get("match") and not f.get("region") and not f.get("operation")]
    if not matches:
        return answer
    forbidden = {
        q.get("Id") for q in request.get("MetricDataQueries", [])
        if any(m in json.dumps(_to_json_value(q)) for m in matches)
    }
    for r in answer.get("MetricDataResults", []):
        if r.get("Id") in forbidden:
            r["Values"], r["Timestamps"] = [], []
            r["StatusCode"] = "Forbidden"
            r["Messages"] = [{"Code": "Forbidden", "Value": "injected fault: not authorized to read this metric"}]
    return answer


class HelmEmulator:
    """WSGI middleware around moto's dispatcher: the patches above plus a request log."""

    def __init__(self, app, request_log=None, serialize=False):
        self.app = app
        self.serialize = threading.Lock() if serialize else None
        self.request_log = open(request_log, "a", buffering=1) if request_log else None
        self.log_lock = threading.Lock()

    def log(self, environ, operation):
        if not self.request_log:
            return
        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = re.search(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/", auth)
        region, service = (m.group(1), m.group(2)) if m else ("", "")
        with self.log_lock:
            self.request_log.write(
                json.dumps({"service": service, "region": region, "operation": operation,
                            "method": environ.get("REQUEST_METHOD"), "path": environ.get("PATH_INFO")})
                + "\n"
            )

    def __call__(self, environ, start_response):
        if self.serialize is not None:
            # One request at a time, body included (see --serialize).
            with self.serialize:
                return list(self.handle(environ, start_response))
        return self.handle(environ, start_response)

    def handle(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/helm-emulator/ping":
            return _json(start_response, "200 OK", "ok")
        if path == "/helm-emulator/ce/daily-costs" and environ["REQUEST_METHOD"] == "POST":
            return _seed_costs(environ, start_response)
        if path == "/helm-emulator/iam/age" and environ["REQUEST_METHOD"] == "POST":
            return _age_iam_user(environ, start_response)
        if path == "/helm-emulator/faults" and environ["REQUEST_METHOD"] == "POST":
            return _set_faults(environ, start_response)
        if path == "/moto-api/reset" and environ["REQUEST_METHOD"] == "POST":
            with _costs_lock:
                _costs.clear()
            with _faults_lock:
                _faults.clear()
        if path.startswith("/moto-api/"):
            return self.app(environ, start_response)

        target = environ.get("HTTP_X_AMZ_TARGET", "")
        m = _CBOR_PATH.match(path)
        if _faults:
            body = _read_body(environ)
            environ["wsgi.input"] = io.BytesIO(body)
            # A GetMetricData batch is answered per query (see _forbid_matching_queries).
            is_metric_data = bool(m) and m.group(2) == "GetMetricData"
            op = m.group(2) if m else (target.split(".")[-1] if target else _query_action(environ))
            fault = _fault_for(environ, body, whole_request=not is_metric_data, operation=op)
            if fault:
                self.log(environ, m.group(2) if m else (target.split(".")[-1] if target else _query_action(environ) or path))
                return _fault_response(environ, start_response, fault)
        if path.rstrip("/") == "/2016-08-19/account-settings" and environ["REQUEST_METHOD"] == "GET":
            self.log(environ, "GetAccountSettings")
            return _lambda_account_settings(environ, start_response)
        if m and m.group(1) in _SERVICE_BY_TARGET_PREFIX:
            self.log(environ, m.group(2))
            return _cbor_bridge(self.app, environ, start_response, m.group(1), m.group(2))
        operation = target.split(".")[-1] if target else _query_action(environ) or path
        self.log(environ, operation)
        if target == "AWSInsightsIndexService.GetCostAndUsage":
            with _costs_lock:
                rows = dict(_costs.get(_account_of(environ), {}))
            if rows:
                return _get_cost_and_usage(environ, start_response, rows)
        if environ.get("REQUEST_METHOD") == "GET" and "versioning" in environ.get("QUERY_STRING", "").split("&"):
            return _bucket_versioning(self.app, environ, start_response)
        return self.app(environ, start_response)


# --------------------------------------------------------------------------------------
# Patch: GetBucketVersioning's root element. AWS answers <VersioningConfiguration>; moto
# 5.2.5 answers <GetBucketVersioningResponse>, which botocore reads anyway but the AWS SDK
# for Rust refuses ("expected VersioningConfiguration"), so no bucket's versioning could
# be read. The body is renamed, nothing else.
# --------------------------------------------------------------------------------------
def _bucket_versioning(app, environ, start_response):
    status, headers, body = _call(app, environ)
    if b"<GetBucketVersioningResponse" in body:
        body = body.replace(b"<GetBucketVersioningResponse", b"<VersioningConfiguration").replace(
            b"</GetBucketVersioningResponse>", b"</VersioningConfiguration>")
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [body]


def _query_action(environ):
    """The Action of a query-protocol request (STS, EC2, IAM, RDS...), in the URL or the form body."""
    found = re.search(r"(?:^|&)Action=([A-Za-z0-9]+)", environ.get("QUERY_STRING", ""))
    if found:
        return found.group(1)
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        found = re.search(rb"(?:^|&)Action=([A-Za-z0-9]+)", body)
        return found.group(1).decode() if found else None
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--request-log", default=os.environ.get("HELM_EMULATOR_REQUEST_LOG"))
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone (test harness)")
    parser.add_argument(
        "--serialize", action="store_true",
        help="answer one request at a time. moto serves requests on threads and checks S3 "
        "If-Match / If-None-Match apart from the write, so two conditional writers can both "
        "win (measured: 1-2 rounds in 20 under 50 writers); AWS checks and writes atomically. "
        "Tests of lost writes run with this so they test helm-cloud, not moto's race.")
    args = parser.parse_args(argv)
    if args.parent_pid:
        parent.follow(args.parent_pid)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    # moto starts no ECS task: a new service reports MOTO_ECS_SERVICE_RUNNING tasks running
    # (AWS would start desiredCount). 2 lets a test seed a service short of tasks
    # (desiredCount 3) beside healthy ones (desiredCount 2).
    os.environ.setdefault("MOTO_ECS_SERVICE_RUNNING", "2")
    # A new AWS account's Lambda concurrency (moto enforces the 100 left unreserved).
    os.environ.setdefault("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000")
    # A real account owns none of Amazon's public AMIs: with moto's ~1,300 built-in images
    # loaded, their snapshots answer DescribeSnapshots owner=self as the account's own.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, HelmEmulator(app, args.request_log, args.serialize), threaded=True)


if __name__ == "__main__":
    sys.exit(main())
