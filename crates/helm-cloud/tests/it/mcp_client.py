"""An independent MCP client (Python's `mcp` package, PyPI) that drives `helm-cloud mcp`.

Run by tests/it/mcp.rs:  python mcp_client.py SCENARIO BINARY
The server is spawned on stdio with the caller's environment (HELM_ROOT, the emulator's
endpoint). The scenario's JSON (tool lists, results, what elicitation was asked) goes to
stdout for the Rust test to check.

SCENARIO is a JSON object:
  {"handshake": "initialize" | "discover",
   "elicit": null | "right" | "wrong" | "decline",
   "server_args": ["--env", "test"],
   "calls": [["health", {"env": "test"}], ["remediate_apply", {"plan_id": "$plan"}], ...]}
"$plan" in an argument is the plan_id of the last remediate_plan result.
"""

import asyncio
import json
import os
import re
import sys

import boto3
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

import mcp.types as types
from mcp import ClientSession, StdioServerParameters, stdio_client


def result_json(r):
    return {
        "is_error": bool(r.is_error),
        "structured": r.structured_content,
        "text": [c.text for c in r.content if getattr(c, "type", "") == "text"],
    }


async def main(spec, binary):
    asked = []

    async def elicit(context, params):
        asked.append({"message": params.message, "schema": params.requested_schema})
        if spec["elicit"] == "decline":
            return types.ElicitResult(action="decline")
        # The person types the resource id the question names (or something else).
        found = re.search(r"resource id \(([^)]+)\)", params.message)
        expected = found.group(1) if found else ""
        typed = spec.get("typed") or (expected if spec["elicit"] == "right" else "not-the-id")
        return types.ElicitResult(action="accept", content={"resource_id": typed})

    params = StdioServerParameters(command=binary, args=["mcp", *spec.get("server_args", [])],
                                   env=dict(os.environ))
    out = {"tools": [], "calls": [], "asked": asked}
    async with stdio_client(params) as (read, write):
        kwargs = {"client_info": types.Implementation(name="helm-test-agent", version="1.0")}
        if spec.get("elicit"):
            kwargs["elicitation_callback"] = elicit
        async with ClientSession(read, write, **kwargs) as session:
            if spec["handshake"] == "initialize":
                init = await session.initialize()
                out["protocol"] = init.protocol_version
                out["server"] = init.server_info.name
            else:
                found = await session.discover()
                out["protocol"] = getattr(session, "_negotiated_version", None) or str(found.supported_versions[-1])
            listed = await session.list_tools()
            for t in listed.tools:
                a = t.annotations
                try:
                    Draft202012Validator.check_schema(t.input_schema)
                    valid = True
                except SchemaError as e:
                    valid = str(e)
                out["tools"].append({
                    "schema_valid": valid,
                    "name": t.name, "description": t.description, "input_schema": t.input_schema,
                    "read_only": a.read_only_hint if a else None,
                    "destructive": a.destructive_hint if a else None,
                })
            plan = None
            for name, args in spec["calls"]:
                if name == "_sleep":
                    # Past the server's --plan-ttl.
                    await asyncio.sleep(args["seconds"])
                    continue
                if name == "_change_lambda":
                    # The world changes between the plan and the apply (a colleague's deploy).
                    boto3.client("lambda", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1",
                                 aws_access_key_id="t", aws_secret_access_key="t").update_function_configuration(
                        FunctionName=args["name"], MemorySize=512)
                    continue
                args = {k: (plan if v == "$plan" else v) for k, v in args.items()}
                r = await session.call_tool(name, args)
                j = result_json(r)
                if name == "remediate_plan" and j["structured"] and "plan_id" in j["structured"]:
                    plan = j["structured"]["plan_id"]
                out["calls"].append({"tool": name, "args": args, **j})
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2]))
