#!/usr/bin/env python3
"""Local servers that check helm-cloud's alerts against each service's documented contract.

One process, three services and a control API (tests script the answers, read what came):

  POST /slack/<hook>            Slack incoming webhook: Block Kit limits (at most 50 blocks,
                                header text <= 150, section text <= 3000, fields <= 10 of
                                <= 2000, context elements <= 10); answers 200 `ok` or one of
                                Slack's documented errors (400 invalid_blocks, invalid_payload).
  POST /pagerduty/v2/enqueue    PagerDuty Events API v2: every body validated against the
                                published OpenAPI description (--pagerduty-openapi), plus the
                                rules its prose states (dedup_key for resolve, payload for
                                trigger); 202 / 400 "invalid event" / scripted 429 and 5xx.
  POST /webhook/<name>          helm-cloud's webhook: X-Helm-Signature-256 must be the
                                HMAC-SHA256 of the raw body under --webhook-secret.
  POST /_script                 {"service": "pagerduty", "answers": [{"status": 429,
                                "retry_after": 1}, {"hang": 30}, {"status": 202}]}
  GET  /_seen, /_alerts         what arrived; PagerDuty alert state per dedup key.

`--print` (the demo's on-call server) prints one line per event received.
"""
import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema

LOCK = threading.Lock()
SEEN = []
SCRIPTS = {"slack": [], "pagerduty": [], "webhook": []}
ALERTS = {}
ARGS = None
PD_SCHEMA = None

SLACK_BLOCK_TYPES = {"header", "section", "context", "divider", "actions", "image", "rich_text"}
WEBHOOK_FIELDS = ["version", "event", "issue_id", "fingerprint", "environment", "domain",
                  "severity", "title", "detail", "resource", "slo_breach", "detected_at",
                  "resolved_at", "metrics", "report_path", "command"]


def pagerduty_schema(path):
    doc = json.load(open(path))
    body = doc["paths"]["/enqueue"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    # The OpenAPI $refs point at #/components/schemas/...: resolve them in one document.
    return {**body, "components": doc["components"]}


def slack_errors(doc):
    errs = []
    if not isinstance(doc, dict):
        return ["invalid_payload"]
    blocks = doc.get("blocks")
    if "text" not in doc and not blocks:
        errs.append("no_text")
    if isinstance(doc.get("text"), str) and len(doc["text"]) > 40000:
        errs.append("msg_too_long")
    if blocks is None:
        return errs
    if not isinstance(blocks, list) or len(blocks) > 50:
        return errs + ["invalid_blocks: more than 50 blocks"]
    for i, b in enumerate(blocks):
        t = b.get("type")
        if t not in SLACK_BLOCK_TYPES:
            errs.append(f"invalid_blocks: block {i} has type {t!r}")
        elif t == "header":
            txt = b.get("text", {})
            if txt.get("type") != "plain_text" or len(txt.get("text", "")) > 150 or not txt.get("text"):
                errs.append(f"invalid_blocks: header {i} needs plain_text of 1-150 characters")
        elif t == "section":
            text, fields = b.get("text"), b.get("fields")
            if text is None and not fields:
                errs.append(f"invalid_blocks: section {i} has neither text nor fields")
            if text is not None and not (1 <= len(text.get("text", "")) <= 3000):
                errs.append(f"invalid_blocks: section {i} text must be 1-3000 characters")
            if fields is not None and (len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields)):
                errs.append(f"invalid_blocks: section {i} fields: at most 10 of 2000 characters")
        elif t == "context":
            el = b.get("elements", [])
            if not 1 <= len(el) <= 10:
                errs.append(f"invalid_blocks: context {i} needs 1-10 elements")
    return errs


def pagerduty_errors(doc):
    errs = []
    try:
        jsonschema.validate(doc, PD_SCHEMA)
    except jsonschema.ValidationError as e:
        errs.append(f"schema: {e.message} at {list(e.absolute_path)}")
    if isinstance(doc, dict):
        action = doc.get("event_action")
        if action in ("resolve", "acknowledge") and not doc.get("dedup_key"):
            errs.append("dedup_key is required for " + str(action))
        if action == "trigger" and "payload" not in doc:
            errs.append("payload is required for trigger")
        if len(doc.get("routing_key", "")) != 32:
            errs.append("routing_key must be the 32-character integration key")
        summary = doc.get("payload", {}).get("summary", "")
        if len(summary) > 1024:
            errs.append("payload.summary over 1024 characters")
    return errs


def webhook_errors(raw, headers, doc):
    errs = []
    want = "sha256=" + hmac.new(ARGS.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
    got = headers.get("X-Helm-Signature-256", "")
    if not hmac.compare_digest(want, got):
        errs.append("bad or missing X-Helm-Signature-256")
    if not isinstance(doc, dict):
        return errs + ["body is not a JSON object"]
    for f in WEBHOOK_FIELDS:
        if f not in doc:
            errs.append(f"missing field {f}")
    if doc.get("version") != "1":
        errs.append("version must be \"1\"")
    if not headers.get("X-Helm-Delivery"):
        errs.append("missing X-Helm-Delivery")
    return errs


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with LOCK:
            if self.path == "/_seen":
                return self.answer(200, json.dumps(SEEN))
            if self.path == "/_alerts":
                return self.answer(200, json.dumps(ALERTS))
        self.answer(404, "{}")

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_script":
            s = json.loads(raw)
            with LOCK:
                SCRIPTS[s["service"]] = list(s["answers"])
            return self.answer(200, "{}")
        service = self.path.split("/")[1]
        if service not in SCRIPTS:
            return self.answer(404, "{}")
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        ctype_ok = self.headers.get("Content-Type", "").startswith("application/json")
        if service == "slack":
            errs = slack_errors(doc)
        elif service == "pagerduty":
            errs = pagerduty_errors(doc) if self.path == "/pagerduty/v2/enqueue" else ["unknown path"]
        else:
            errs = webhook_errors(raw, self.headers, doc)
        if not ctype_ok:
            errs.append("Content-Type is not application/json")
        with LOCK:
            script = SCRIPTS[service].pop(0) if SCRIPTS[service] else {}
        record = {"service": service, "path": self.path, "at": time.time(), "json": doc,
                  "headers": {k: v for k, v in self.headers.items()},
                  "contract_ok": not errs, "errors": errs}
        with LOCK:
            SEEN.append(record)
        if script.get("hang"):
            time.sleep(script["hang"])
            record["answered"] = None
            return
        status = script.get("status")
        extra = {"Retry-After": str(script["retry_after"])} if "retry_after" in script else None
        if errs and status is None:
            record["answered"] = 400
            if service == "slack":
                return self.answer(400, errs[0].split(":")[0], "text/plain")
            if service == "pagerduty":
                return self.answer(400, json.dumps({"status": "invalid event", "message": "Event object is invalid", "errors": errs}))
            return self.answer(401, json.dumps({"errors": errs}))
        if status is None:
            status = {"slack": 200, "pagerduty": 202, "webhook": 204}[service]
        record["answered"] = status
        if 200 <= status < 300:
            if service == "pagerduty":
                key = doc.get("dedup_key")
                with LOCK:
                    ALERTS[key] = {"trigger": "triggered", "resolve": "resolved",
                                   "acknowledge": "acknowledged"}[doc["event_action"]]
                if ARGS.print:
                    print(f"on-call (PagerDuty): {doc['event_action']} {key}"
                          + (f" [{doc['payload']['severity']}] {doc['payload']['summary']}" if "payload" in doc else ""), flush=True)
                return self.answer(status, json.dumps({"status": "success", "message": "Event processed", "dedup_key": key}))
            if ARGS.print:
                if service == "slack":
                    print(f"chat (Slack): {doc.get('text', '')}", flush=True)
                else:
                    print(f"webhook: {doc.get('event')} {doc.get('issue_id')} {doc.get('severity')}", flush=True)
            return self.answer(status, "ok" if service == "slack" else "", "text/plain")
        if service == "slack":
            body = script.get("body", "rate_limited" if status == 429 else "internal_error")
            return self.answer(status, body, "text/plain", extra)
        if service == "pagerduty" and status == 429:
            return self.answer(429, json.dumps({"status": "throttle event", "message": "Requests for this service are arriving too quickly."}), extra=extra)
        return self.answer(status, json.dumps({"status": "error", "message": script.get("body", "server error")}), extra=extra)


def main():
    global ARGS, PD_SCHEMA
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--pagerduty-openapi", required=True)
    p.add_argument("--webhook-secret", default="")
    p.add_argument("--print", action="store_true")
    ARGS = p.parse_args()
    PD_SCHEMA = pagerduty_schema(ARGS.pagerduty_openapi)
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
