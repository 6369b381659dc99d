#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Count what ecaptop captured of a verification run.

Usage: count.py CAPTURE.json H2LOAD.txt
CAPTURE.json: ecaptop --batch --json output (data records, then one stats record).
H2LOAD.txt: lines "FILE SUCCEEDED" (h2load's completed requests per file).
Prints raw lines for table.py:
  verify FILE H2LOAD_SUCCEEDED REQUESTS_CAPTURED RESPONSES_CAPTURED
  verify_stats EVENTS LOST_TOTAL
A request counts when a recv record of the server starts with "GET /FILE "; a response
when a send record starts with "HTTP/1.1 200" (nginx writes its header with the first
bytes of the body, in one SSL_write).
"""
import base64
import json
import sys


def main():
    want = {}
    with open(sys.argv[2]) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                want[parts[0]] = parts[1]
    reqs = {name: 0 for name in want}
    resps = 0
    stats = None
    with open(sys.argv[1], 'rb') as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get('type') == 'stats':
                stats = rec
                continue
            if rec.get('type') != 'data':
                continue
            data = base64.b64decode(rec.get('data', ''))
            if rec.get('dir') == 'recv':
                for name in reqs:
                    if data.startswith(b'GET /' + name.encode() + b' '):
                        reqs[name] += 1
            elif rec.get('dir') == 'send' and data.startswith(b'HTTP/1.1 200'):
                resps += 1
    for name in want:
        print('verify', name, want[name], reqs[name])
    print('verify_responses', resps, sum(int(v) for v in want.values() if v.isdigit()))
    if stats is None:
        print('verify_stats nan nan')
    else:
        print('verify_stats', stats.get('events'), sum(stats.get('lost', {}).values()))


main()
