"""A fault-injecting HTTP proxy between helm-cloud and the AWS emulator.

AWS fails in ways moto never does: it throttles, answers 500 or 503, is slow, resets
connections, cuts bodies short, and sometimes applies a change whose answer never arrives.
This proxy forwards every request to the emulator and, per service and operation, injects
those faults in the real error shape of each protocol (JSON 1.0/1.1, query/XML, EC2's
query, REST-JSON, REST-XML, Smithy RPCv2 CBOR), so the SDK classifies them as it would
classify AWS's (throttling is retried with backoff, a reset is a transient I/O error...).

Usage: faultproxy.py --port PORT --upstream http://127.0.0.1:EMULATOR
                     [--rules "GetMetricData throttle 30%; * latency 50ms"] [--rules-file F]
                     [--seed N] [--parent-pid PID]

Rules (one per line in a file, or separated by `;`; `HELM_FAULT_RULES` in the environment
is read too):

    <operation>[@<service>] <fault> [<N>%] [x<count>] [after <n>] [<ms>ms]

  operation  the AWS operation (`GetMetricData`, `FilterLogEvents`,
             `UpdateFunctionConfiguration`...) or `*` for every request
  service    the signing name of the service (`monitoring`, `logs`, `lambda`...)
  fault      throttle | 500 | 503 | latency | reset | truncate | lost | down
               throttle  the service's own throttling error (Throttling,
                         ThrottlingException, TooManyRequestsException, SlowDown,
                         RequestLimitExceeded), status 400/429/503 as AWS sends it
               500, 503  InternalFailure / ServiceUnavailable in the protocol's shape
               latency   the answer is held back <ms> before it is sent (default 200ms)
               reset     the connection is reset after the request is read; the emulator
                         never sees it
               truncate  the request is applied; the answer's headers promise the whole
                         body but half of it is sent, then the connection closes
               lost      the request is applied; the connection is reset before any answer
               down      every request's connection is reset and nothing is forwarded
                         (an endpoint that is not there; the operation is ignored)
  N%         the share of matching requests that fail (default 100%), from a seeded
             random stream per rule, so a run is repeatable
  x<count>   at most this many faults from the rule, then it passes requests through
  after <n>  the first n matching requests pass through untouched

The first rule whose operation, service, `after` and share match a request decides it.

Control endpoints (not AWS):
  POST /helm-fault/rules   a JSON list of rule lines (or `{"rules": "..."}`) replaces the rules
  GET  /helm-fault/stats   {"requests": [{"service", "operation", "fault"}...], "counts": {...}}
  POST /helm-fault/clear   forget the stats (the rules stay)
  GET  /helm-fault/ping    "ok"
"""

import argparse
import http.client
import json
import os
import random
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

import cbor2

import parent

FAULTS = ("throttle", "500", "503", "latency", "reset", "truncate", "lost", "down")
_CBOR_PATH = re.compile(r"^/service/([A-Za-z0-9_]+)/operation/([A-Za-z0-9_]+)$")
_SCOPE = re.compile(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/")


class RuleError(ValueError):
    pass


class Rule:
    def __init__(self, text, seed):
        self.text = text.strip()
        words = self.text.split()
        if len(words) < 2:
            raise RuleError(f"rule {text!r}: write `<operation> <fault> [N%] [xCOUNT] [after N] [MSms]`")
        target, fault, rest = words[0], words[1], words[2:]
        self.operation, _, self.service = target.partition("@")
        if fault not in FAULTS:
            raise RuleError(f"rule {text!r}: fault {fault!r} is not one of {', '.join(FAULTS)}")
        self.fault = fault
        self.share = 1.0
        self.count = None
        self.after = 0
        self.delay = 0.2
        i = 0
        while i < len(rest):
            w = rest[i]
            if re.fullmatch(r"\d+(\.\d+)?%", w):
                self.share = float(w[:-1]) / 100
            elif re.fullmatch(r"x\d+", w):
                self.count = int(w[1:])
            elif w == "after" and i + 1 < len(rest) and rest[i + 1].isdigit():
                self.after = int(rest[i + 1])
                i += 1
            elif re.fullmatch(r"\d+ms", w):
                self.delay = int(w[:-2]) / 1000
            else:
                raise RuleError(f"rule {text!r}: {w!r} is not N%, xCOUNT, `after N` or MSms")
            i += 1
        if not 0 <= self.share <= 1:
            raise RuleError(f"rule {text!r}: a share is between 0% and 100%")
        self.random = random.Random(f"{seed}:{self.text}")
        self.seen = 0
        self.fired = 0

    def decide(self, service, operation):
        """Whether this rule fails the request (called under the rules lock)."""
        if self.operation not in ("*", operation):
            return False
        if self.service and self.service != service:
            return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        if self.random.random() >= self.share:
            return False
        self.fired += 1
        return True


def parse_rules(text, seed=0):
    lines = [part for line in (text or "").splitlines() for part in line.split(";")]
    return [Rule(t, seed) for t in lines if t.strip() and not t.strip().startswith("#")]


# ------------------------------------------------------------------------------------
# What a request is: service (from its signature), operation and protocol.
# ------------------------------------------------------------------------------------
_LAMBDA_ROUTES = [
    ("PUT", r"/2015-03-31/functions/[^/]+/configuration", "UpdateFunctionConfiguration"),
    ("GET", r"/2015-03-31/functions/[^/]+/configuration", "GetFunctionConfiguration"),
    ("PUT", r"/2015-03-31/functions/[^/]+/code", "UpdateFunctionCode"),
    ("GET", r"/2015-03-31/functions/?", "ListFunctions"),
    ("GET", r"/2015-03-31/functions/[^/]+", "GetFunction"),
    ("PUT", r"/2017-10-31/functions/[^/]+/concurrency", "PutFunctionConcurrency"),
    ("GET", r"/2019-09-30/functions/[^/]+/concurrency", "GetFunctionConcurrency"),
    ("DELETE", r"/2017-10-31/functions/[^/]+/concurrency", "DeleteFunctionConcurrency"),
    ("GET", r"/2017-03-31/tags/.+", "ListTags"),
    ("GET", r"/2016-08-19/account-settings/?", "GetAccountSettings"),
]


def classify(method, path, headers, body):
    """(service, operation, protocol) of a request."""
    m = _SCOPE.search(headers.get("authorization", ""))
    service = m.group(2) if m else ""
    url = urllib.parse.urlsplit(path)
    target = headers.get("x-amz-target", "")
    cbor = _CBOR_PATH.match(url.path)
    if cbor:
        return service, cbor.group(2), "cbor"
    if target:
        return service, target.split(".")[-1], "json"
    action = re.search(r"(?:^|&)Action=([A-Za-z0-9]+)", url.query)
    if not action and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        action = re.search(rb"(?:^|&)Action=([A-Za-z0-9]+)", body)
    if action:
        op = action.group(1)
        return service, op.decode() if isinstance(op, bytes) else op, "ec2" if service == "ec2" else "query"
    if service == "lambda" or url.path.startswith(("/2015-03-31/", "/2017-", "/2016-08-19/", "/2019-09-30/")):
        for verb, pattern, op in _LAMBDA_ROUTES:
            if verb == method and re.fullmatch(pattern, url.path):
                return service or "lambda", op, "rest-json"
        return service or "lambda", f"{method} {url.path}", "rest-json"
    if service in ("apigateway", "execute-api"):
        return service, f"{method} {url.path}", "rest-json"
    return service, f"{method} {url.path}", "rest-xml"


_THROTTLE = {
    # protocol: (status, code)
    "cbor": (400, "ThrottlingException"),
    "json": (400, "ThrottlingException"),
    "query": (400, "Throttling"),
    "ec2": (503, "RequestLimitExceeded"),
    "rest-json": (429, "TooManyRequestsException"),
    "rest-xml": (400, "Throttling"),
}


def error_response(protocol, service, fault):
    """(status, headers, body) of an AWS error in the protocol's shape."""
    if fault == "throttle":
        status, code = _THROTTLE[protocol]
        if service == "s3":
            status, code = 503, "SlowDown"
        message = "Rate exceeded"
    elif fault == "500":
        status, code, message = 500, "InternalFailure", "We encountered an internal error. Please try again."
    else:
        status, code, message = 503, "ServiceUnavailable", "Service is unavailable. Please try again."
    rid = "fault-%08x" % random.getrandbits(32)
    headers = [("x-amzn-RequestId", rid)]
    if protocol == "cbor":
        body = cbor2.dumps({"__type": code, "message": message})
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    # awsQueryCompatible services (CloudWatch) also name the query code.
                    ("x-amzn-query-error", f"{'Throttling' if fault == 'throttle' else code};Sender")]
    elif protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers += [("Content-Type", "application/x-amz-json-1.1")]
    elif protocol == "query":
        body = (f"<ErrorResponse><Error><Type>{'Sender' if fault == 'throttle' else 'Receiver'}</Type>"
                f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{rid}</RequestId>"
                f"</ErrorResponse>").encode()
        headers += [("Content-Type", "text/xml")]
    elif protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>{rid}</RequestID></Response>").encode()
        headers += [("Content-Type", "text/xml")]
    elif protocol == "rest-json":
        body = json.dumps({"Type": "User" if fault == "throttle" else "Service", "message": message,
                           "Reason": "CallerRateLimitExceeded" if fault == "throttle" else code}).encode()
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    else:
        body = (f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{rid}</RequestId>"
                f"</Error>").encode()
        headers += [("Content-Type", "application/xml")]
    return status, headers, body


# ------------------------------------------------------------------------------------
# The proxy.
# ------------------------------------------------------------------------------------
class State:
    def __init__(self, upstream, rules, seed):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.seed = seed
        self.lock = threading.Lock()
        self.rules = rules
        self.requests = []

    def set_rules(self, text):
        rules = parse_rules(text, self.seed)
        with self.lock:
            self.rules = rules

    def decide(self, service, operation):
        with self.lock:
            for r in self.rules:
                if r.fault != "down" and r.decide(service, operation):
                    return r
        return None

    def down(self):
        with self.lock:
            return any(r.decide("", r.operation) for r in self.rules if r.fault == "down")

    def record(self, service, operation, fault):
        with self.lock:
            self.requests.append({"service": service, "operation": operation, "fault": fault or "none"})

    def stats(self):
        with self.lock:
            counts = {}
            for r in self.requests:
                key = f"{r['operation']} {r['fault']}"
                counts[key] = counts.get(key, 0) + 1
            return {"requests": list(self.requests), "counts": counts}


def read_request(rfile):
    """(method, path, version, headers dict lower-cased, raw header list, body) or None at EOF."""
    line = rfile.readline(65537)
    if not line:
        return None
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(65537)
        if not line:
            return None
    method, path, version = line.decode("latin-1").split()
    raw, headers = [], {}
    while True:
        h = rfile.readline(65537)
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").partition(":")
        raw.append((name.strip(), value.strip()))
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += rfile.read(size)
            rfile.readline()
        raw = [(k, v) for k, v in raw if k.lower() != "transfer-encoding"]
    else:
        body = rfile.read(int(headers.get("content-length", "0") or 0))
    return method, path, version, headers, raw, body


def reset(sock):
    """Close with a TCP RST, as a load balancer dropping the connection does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        state = self.server.state
        while True:
            try:
                req = read_request(self.rfile)
            except (OSError, ValueError):
                return
            if req is None:
                return
            method, path, version, headers, raw, body = req
            close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
            if path.startswith("/helm-fault/"):
                self.control(method, path, body)
                if close:
                    return
                continue
            service, operation, protocol = classify(method, path, headers, body)
            # `down` answers nothing and forwards nothing (the control endpoints still answer).
            if state.down():
                state.record(service, operation, "down")
                reset(self.connection)
                return
            rule = state.decide(service, operation)
            fault = rule.fault if rule else None
            state.record(service, operation, fault)
            if fault in ("reset", "down"):
                reset(self.connection)
                return
            if fault in ("throttle", "500", "503"):
                self.send(*error_response(protocol, service, fault))
                if close:
                    return
                continue
            try:
                status, reason, out_headers, out_body = self.forward(method, path, raw, body)
            except OSError as e:
                self.send(502, [("Content-Type", "text/plain")], f"faultproxy: upstream: {e}".encode())
                continue
            if fault == "lost":
                reset(self.connection)
                return
            if fault == "latency":
                time.sleep(rule.delay)
            if fault == "truncate":
                self.send(status, out_headers, out_body, keep=len(out_body) // 2, reason=reason)
                reset(self.connection)
                return
            self.send(status, out_headers, out_body, reason=reason)
            if close:
                return

    def forward(self, method, path, raw, body):
        up = self.server.state.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in raw:
                if k.lower() in ("connection", "keep-alive", "content-length", "expect"):
                    continue
                conn.putheader(k, v)
            conn.putheader("Content-Length", str(len(body)))
            conn.putheader("Connection", "close")
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            headers = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length",
                                            "server", "date")]
            return resp.status, resp.reason, headers, data
        finally:
            conn.close()

    def send(self, status, headers, body, keep=None, reason=None):
        head = [f"HTTP/1.1 {status} {reason or http.client.responses.get(status, 'Status')}"]
        head += [f"{k}: {v}" for k, v in headers]
        head += [f"Content-Length: {len(body)}", "Connection: keep-alive", "", ""]
        out = "\r\n".join(head).encode("latin-1") + (body if keep is None else body[:keep])
        try:
            self.wfile.write(out)
            self.wfile.flush()
        except OSError:
            pass

    def control(self, method, path, body):
        state = self.server.state
        route = urllib.parse.urlsplit(path).path
        if route == "/helm-fault/ping":
            return self.send(200, [("Content-Type", "application/json")], b'"ok"')
        if route == "/helm-fault/stats" and method == "GET":
            return self.send(200, [("Content-Type", "application/json")], json.dumps(state.stats()).encode())
        if route == "/helm-fault/clear" and method == "POST":
            with state.lock:
                state.requests.clear()
            return self.send(200, [("Content-Type", "application/json")], b'"cleared"')
        if route == "/helm-fault/rules" and method == "POST":
            try:
                payload = json.loads(body or b"[]")
                text = payload.get("rules", "") if isinstance(payload, dict) else "\n".join(payload)
                state.set_rules(text)
            except (ValueError, AttributeError, TypeError) as e:
                return self.send(400, [("Content-Type", "text/plain")], str(e).encode())
            return self.send(200, [("Content-Type", "application/json")],
                             json.dumps({"rules": len(state.rules)}).encode())
        return self.send(404, [("Content-Type", "text/plain")], b"no such control endpoint")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--rules", default=os.environ.get("HELM_FAULT_RULES", ""))
    parser.add_argument("--rules-file")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("HELM_FAULT_SEED", "1")))
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    text = args.rules
    if args.rules_file:
        with open(args.rules_file, encoding="utf-8") as f:
            text += "\n" + f.read()
    try:
        rules = parse_rules(text, args.seed)
    except RuleError as e:
        print(f"faultproxy: {e}", file=sys.stderr)
        return 64
    if args.parent_pid:
        parent.follow(args.parent_pid)
    server = Server((args.host, args.port), Handler)
    server.state = State(args.upstream, rules, args.seed)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
