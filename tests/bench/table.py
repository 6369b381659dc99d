#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Print make bench's one table from the raw figures run.sh collected.

Usage: table.py RAW NOTES SECS ROUNDS SYN_SECS
RAW lines (space separated, written by run.sh and count.py):
  machine TEXT...
  req CFG FILE ROUND REQ_PER_S SUCCEEDED       one timed h2load run
  tainted CFG FILE ROUND REQ_PER_S             a run another tracer disturbed
  skip CFG                                     a tracer that did not start
  ready_ms MS                                  one ecaptop start
  rss_load KIB HWM_KIB / rss_idle KIB HWM_KIB
  verify FILE H2LOAD CAPTURED / verify_responses N EXPECTED / verify_stats EVENTS LOST
  synth MODE RATE offered=.. accepted=.. secs=.. events=.. span_s=.. rate=.. stats={..}
  store idle_rss_kib=.. ... rss_kib=.. hwm_kib=..  (store_budget: with --max-memory)
  idle MODE SWITCHES TICKS SECS / quit MODE LIBS MS / first_screen MS
Figures only: nothing here passes or fails.
"""
import json
import re
import statistics
import sys

CFG_LABEL = {
    'untraced': 'untraced',
    'ecaptop': 'ecaptop --batch --json -p WORKER',
    'bpftrace': 'bpftrace uprobe+uretprobe (first 200 B)',
    'sslsniff': 'bcc sslsniff (first 8 KiB)',
}
FILE_LABEL = {'100b': '100 B', '64k': '64 KiB'}


def kv(text):
    """key=value pairs of a line; stats={...} as parsed JSON."""
    out = {}
    m = re.search(r'stats=(\{.*\})', text)
    if m:
        try:
            out['stats'] = json.loads(m.group(1))
        except ValueError:
            out['stats'] = {}
        text = text[:m.start()]
    for k, v in re.findall(r'(\w+)=(\S+)', text):
        out[k] = v
    return out


def mib(kib):
    try:
        return '%.1f MiB' % (int(kib) / 1024)
    except (TypeError, ValueError):
        return 'n/a'


def main():
    raw, notes_path, secs, rounds, syn_secs = sys.argv[1:6]
    lines = [l.rstrip('\n').split(' ') for l in open(raw) if l.strip()]
    notes = [l.strip() for l in open(notes_path) if l.strip()]
    rows = []

    def row(a, b, c, d=''):
        rows.append((a, b, c, d))

    machine = ' '.join(next((l[1:] for l in lines if l[0] == 'machine'), []))
    conns = next((l[1] for l in lines if l[0] == 'conns'), '8')

    # 1. Overhead.
    req = {}
    cpu = {}
    tainted = {}
    for l in lines:
        if l[0] == 'req' and l[4] != 'nan':
            req.setdefault((l[1], l[2]), []).append(float(l[4]))
            if len(l) > 7:
                cpu.setdefault((l[1], l[2]), []).append((float(l[6]), float(l[7])))
        elif l[0] == 'tainted':
            tainted[(l[1], l[2])] = tainted.get((l[1], l[2]), 0) + 1
    skipped = {l[1] for l in lines if l[0] == 'skip'}
    verify = {l[1]: (l[2], l[3]) for l in lines if l[0] == 'verify'}
    vstats = next((l[1:] for l in lines if l[0] == 'verify_stats'), None)
    vresp = next((l[1:] for l in lines if l[0] == 'verify_responses'), None)
    for f in ('100b', '64k'):
        base = req.get(('untraced', f))
        base_med = statistics.median(base) if base else None
        for cfg in ('untraced', 'ecaptop', 'bpftrace', 'sslsniff'):
            vals = req.get((cfg, f))
            what = '1. nginx %s, h2load --h1 -c %s' % (FILE_LABEL[f], conns)
            if not vals:
                if cfg in skipped or (cfg, f) in tainted:
                    row(what, CFG_LABEL[cfg], 'n/a',
                        'did not start' if cfg in skipped else 'every run disturbed')
                continue
            med = statistics.median(vals)
            fig = '%.0f req/s' % med
            extra = []
            if base_med:
                extra.append('%.2fx untraced' % (med / base_med))
            if len(vals) > 1:
                extra.append('runs %s' % '/'.join('%.0f' % v for v in vals))
            if cpu.get((cfg, f)):
                us = statistics.median(c[1] for c in cpu[(cfg, f)])
                base_us = (statistics.median(c[1] for c in cpu[('untraced', f)])
                           if cpu.get(('untraced', f)) else 0)
                extra.append('worker %.0f us/req%s, busy %.0f%%' % (
                    us, ' (+%.0f)' % (us - base_us) if base_us and cfg != 'untraced' else '',
                    statistics.median(c[0] for c in cpu[(cfg, f)])))
            if (cfg, f) in tainted:
                extra.append('%d run(s) discarded: another tracer probed the server'
                             % tainted[(cfg, f)])
            row(what, CFG_LABEL[cfg], fig, ', '.join(extra))
    if verify:
        for f, (want, got) in verify.items():
            row('1. ecaptop completeness', 'h2load -n %s, %s' % (want, FILE_LABEL.get(f, f)),
                '%s/%s requests captured' % (got, want),
                'recv records starting "GET /%s "' % f)
        if vresp:
            row('1. ecaptop completeness', 'responses', '%s/%s responses captured'
                % (vresp[0], vresp[1]), 'send records starting "HTTP/1.1 200"')
        if vstats:
            row('1. ecaptop completeness', 'stats record',
                '%s lost' % vstats[1], '%s events delivered' % vstats[0])

    # 2. User side.
    for l in lines:
        if l[0] != 'synth':
            continue
        mode, rate = l[1], l[2]
        d = kv(' '.join(l[3:]))
        st = d.get('stats', {})
        lost = st.get('lost', {})
        offered = int(d.get('offered', 0))
        psecs = float(d.get('secs', 0) or 0)
        delivered = int(d.get('events', 0))
        lost_n = sum(lost.values()) if lost else 0
        # Records the BPF side could not write count as lost (ring reserve / perf lost
        # are counted by ecaptop); so do those the queue refused.
        pct = 100.0 * (offered - delivered) / offered if offered else 0.0
        target = 'max' if rate == '0' else '%d/s' % int(rate)
        row('2. user side, %s, 100 B events' % ('ring buffer' if mode == 'ringbuf'
                                                else 'perf buffer'),
            'offered %s (got %.0f/s)' % (target, offered / psecs if psecs else 0),
            '%s ev/s delivered' % d.get('rate', 'n/a'),
            'lost %.1f%% (buffer full %s, queue full %s)' % (
                pct, lost.get('ring_reserve', 0) + lost.get('perf_lost', 0),
                lost.get('queue_full', 0)))

    # 3. Memory.
    idle = next((l[1:] for l in lines if l[0] == 'rss_idle'), None)
    if idle:
        row('3. memory', 'ecaptop idle, 2 s after ready', 'VmRSS %s' % mib(idle[0]),
            'VmHWM %s, RssAnon %s (the rest is mostly the mapped ring buffer)'
            % (mib(idle[1]), mib(idle[2] if len(idle) > 2 else None)))
    load = [l[1:] for l in lines if l[0] == 'rss_load']
    if load:
        row('3. memory', 'ecaptop under load (end of a 64 KiB run)',
            'VmRSS %s' % mib(max(int(x[0]) for x in load if x[0])),
            'VmHWM %s, RssAnon %s (largest over runs)' % (
                mib(max(int(x[1]) for x in load if x[1])),
                mib(max(int(x[2]) for x in load if len(x) > 2 and x[2]) if any(
                    len(x) > 2 and x[2] for x in load) else None)))
    store = next((l[1:] for l in lines if l[0] == 'store'), None)
    if store:
        d = kv(' '.join(store))
        row('3. memory', 'engine + store (tests/bench/synth store), idle', 'VmRSS %s'
            % mib(d.get('idle_rss_kib')), 'VmHWM %s, RssAnon %s' % (
                mib(d.get('idle_hwm_kib')), mib(d.get('idle_anon_kib'))))
        row('3. memory', 'engine + store, %s items stored' % d.get('items'),
            'VmRSS %s' % mib(d.get('rss_kib')),
            'VmHWM %s, RssAnon %s; %s events (HTTP/1 %s B requests, %s B responses)'
            ' + %s decoded records, %s evicted'
            % (mib(d.get('hwm_kib')), mib(d.get('anon_kib')), d.get('events'),
               d.get('req_bytes'), d.get('resp_bytes'), d.get('records'), d.get('evicted')))
    else:
        row('3. memory', 'one million items stored', 'pending', 'see notes')
    sb = next((l[1:] for l in lines if l[0] == 'store_budget'), None)
    if sb:
        d = kv(' '.join(sb))
        row('3. memory', 'engine + store, %s items through --max-memory %s' % (
            int(d.get('items', 0)) + int(d.get('evicted', 0)), mib(int(d.get('max_memory', 0)) // 1024)),
            'VmRSS %s' % mib(d.get('rss_kib')),
            'VmHWM %s, RssAnon %s; %s items kept (%s counted), %s evicted (%s by the budget)'
            % (mib(d.get('hwm_kib')), mib(d.get('anon_kib')), d.get('items'),
               mib(int(d.get('mem', 0)) // 1024), d.get('evicted'), d.get('evicted_mem')))

    # 4. Ready.
    ready = [float(l[1]) for l in lines if l[0] == 'ready_ms' and l[1]]
    if ready:
        row('4. start to ready', 'ecaptop -p WORKER (libbpf load + attach + /proc scan)',
            '%.0f ms median' % statistics.median(ready),
            'min %.0f, max %.0f over %d starts' % (min(ready), max(ready), len(ready)))

    # 5. What a user feels first.
    for mode in ('batch', 'tui'):
        v = [l for l in lines if l[0] == 'idle' and l[1] == mode]
        if v:
            sw, tk, secs_i = int(v[0][2]), int(v[0][3]), float(v[0][4])
            row('5. idle ecaptop -p PID', '--batch --json' if mode == 'batch' else 'interactive view',
                '%.1f wake-ups/s' % (sw / secs_i),
                '%d context switches and %d CPU ticks (%.2f%% of a CPU) in %.0f s'
                % (sw, tk, 100.0 * tk / 100 / secs_i, secs_i))
    for mode in ('batch', 'tui'):
        v = [float(l[3]) for l in lines if l[0] == 'quit' and l[1] == mode]
        libs = next((l[2] for l in lines if l[0] == 'quit'), '50')
        if v:
            row('5. quit, %s libraries attached' % libs,
                'SIGINT, --batch' if mode == 'batch' else 'q, interactive view',
                '%.0f ms median' % statistics.median(v),
                'to the process gone; min %.0f, max %.0f over %d' % (min(v), max(v), len(v)))
    v = [float(l[1]) for l in lines if l[0] == 'first_screen']
    if v:
        row('5. start to first screen', 'ecaptop (interactive, whole machine)',
            '%.0f ms median' % statistics.median(v),
            'the header drawn (tmux); min %.0f, max %.0f over %d' % (min(v), max(v), len(v)))

    w = [max(len(r[i]) for r in rows + [('test', 'configuration', 'figure', 'notes')])
         for i in range(4)]
    print()
    print('ecaptop benchmark: %s' % machine)
    print('h2load runs of %s s, %s round(s) alternated (medians); user side %s s per rate'
          % (secs, rounds, syn_secs))
    print()
    hdr = ('test', 'configuration', 'figure', 'notes')
    print('  '.join(h.ljust(w[i]) for i, h in enumerate(hdr)).rstrip())
    print('  '.join('-' * w[i] for i in range(4)))
    for r in rows:
        print('  '.join(r[i].ljust(w[i]) for i in range(4)).rstrip())
    if notes:
        print()
        for n in notes:
            print('note: ' + n)


main()
