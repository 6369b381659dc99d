#!/usr/bin/env python3
"""Query ecaptop --json output for the integration tests.

events.py FILE [filters] ACTION
filters: --type T --source S --pid N --comm C --dir send|recv --lport N --rport N --family F
actions:
  --count                 number of matching events
  --contains TEXT         exit 0 if some matching event's payload contains TEXT, print it
  --concat                write the matching events' payload bytes, in order, to stdout
  --first FIELD           print FIELD of the first matching event
  --check-json            every line is valid JSON with the required data fields (exit 1 if not)
  --stats FIELD           print a stats field (dotted: lost.queue_full)
"""
import argparse
import base64
import json
import sys

REQUIRED = ["type", "source", "ts_ns", "pid", "tid", "uid", "comm", "fd", "dir", "family",
            "laddr", "lport", "raddr", "rport", "len", "data"]


def load(path):
    out = []
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError as e:
                print(f"{path}:{n}: not JSON: {e}: {line[:200]!r}", file=sys.stderr)
                out.append({"type": "__invalid__"})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    for f in ["type", "source", "comm", "dir", "family", "laddr", "raddr"]:
        ap.add_argument("--" + f)
    for f in ["pid", "lport", "rport", "uid"]:
        ap.add_argument("--" + f, type=int)
    ap.add_argument("--count", action="store_true")
    ap.add_argument("--contains")
    ap.add_argument("--concat", action="store_true")
    ap.add_argument("--first")
    ap.add_argument("--check-json", action="store_true")
    ap.add_argument("--stats")
    a = ap.parse_args()
    evs = load(a.file)

    if a.check_json:
        bad = 0
        for e in evs:
            if e.get("type") == "__invalid__":
                bad += 1
            elif e.get("type") == "data":
                miss = [k for k in REQUIRED if k not in e]
                if miss or len(base64.b64decode(e["data"])) != e["len"]:
                    print(f"bad data event (missing {miss}): {str(e)[:200]}", file=sys.stderr)
                    bad += 1
        print(f"{len(evs)} lines, {bad} bad")
        return 1 if bad or not evs else 0

    if a.stats:
        st = [e for e in evs if e.get("type") == "stats"]
        if not st:
            print("no stats record", file=sys.stderr)
            return 1
        v = st[-1]
        for k in a.stats.split("."):
            v = v[k]
        print(v)
        return 0

    sel = []
    for e in evs:
        ok = True
        for f in ["type", "source", "comm", "dir", "family", "laddr", "raddr", "pid", "lport",
                  "rport", "uid"]:
            want = getattr(a, f)
            if want is not None and e.get(f) != want:
                ok = False
        if a.type is None and e.get("type") != "data":
            ok = False
        if ok:
            sel.append(e)

    if a.count:
        print(len(sel))
        return 0
    if a.first:
        if not sel:
            return 1
        print(sel[0].get(a.first))
        return 0
    if a.concat:
        out = sys.stdout.buffer
        for e in sel:
            out.write(base64.b64decode(e["data"]))
        return 0
    if a.contains is not None:
        needle = a.contains.encode()
        for e in sel:
            if needle in base64.b64decode(e["data"]):
                print(json.dumps({k: v for k, v in e.items() if k != "data"}))
                return 0
        return 1
    print(len(sel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
