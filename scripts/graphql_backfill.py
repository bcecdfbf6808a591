"""Launch an asset backfill through Dagster's GraphQL API and wait for it (for analysts who script).

    .venv/bin/python scripts/graphql_backfill.py --start 2021-01 --end 2023-12
    .venv/bin/python scripts/graphql_backfill.py --start 2021-01 --end 2023-12 --url http://127.0.0.1:3000

Selects every indicator asset and ``indicator_progress`` (monthly partitions); each asset runs the
whole range in one run (BackfillPolicy.single_run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}"""
ASSETS = """
query { assetNodes { assetKey { path } partitionDefinition { name } } }"""
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status numPartitions }
    ... on PythonError { message }
  }
}"""


def call(url: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{url}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - local webserver
        payload = json.load(response)
    if payload.get("errors"):
        raise RuntimeError(payload["errors"])
    return payload["data"]


def months(start: str, end: str) -> list[str]:
    y, m = map(int, start.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", required=True)
    parser.add_argument("--end", required=True)
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    parser.add_argument("--no-wait", action="store_true")
    args = parser.parse_args()
    nodes = call(args.url, ASSETS)["assetNodes"]
    selection = [{"path": n["assetKey"]["path"]} for n in nodes
                 if n["assetKey"]["path"][0] == "indicator"
                 or n["assetKey"]["path"] == ["indicator_progress"]]
    params = {"assetSelection": selection, "partitionNames": months(args.start, args.end),
              "title": f"回补 {args.start}…{args.end}"}
    result = call(args.url, LAUNCH, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        print(f"backfill not launched: {result}", file=sys.stderr)
        return 1
    backfill_id = result["backfillId"]
    print(f"backfill {backfill_id}: {len(selection)} assets × {len(params['partitionNames'])} months")
    while not args.no_wait:
        status = call(args.url, STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        print(f"  status {status.get('status')}")
        if status.get("status") in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED",
                                     "FAILED", "CANCELED"):
            return 0 if status["status"] in ("COMPLETED", "COMPLETED_SUCCESS") else 1
        time.sleep(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
