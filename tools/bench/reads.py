#!/usr/bin/env python3
"""Read latency with a large database: GET /v1/sla/timers?limit=100, filtered GET /v1/requests,
the dashboard snapshot and /healthz, p50 and p99 over sequential keep-alive requests.

  tools/bench/reads.py [--requests 1000000] [--seed 1000] [--open-every 5] [--samples 2000]
                       [--server build/src/switchboard] [--work DIR]

Files --seed requests through the API (real routing, clocks and events), then copies them in SQL
up to --requests rows (ids, customers and deadlines shifted, so the copies spread over the
indexes like real ones), with their list summaries (request_summaries, migration 13, which the
timers page reads); one copy in --open-every keeps its clocks open, the rest are resolved
(their clocks completed). A --work folder that already holds bench.db is reused as it is. Then starts the server on that database and times each read. Prints
one table; fails (exit 1) when a target is missed (p99 under 10 ms for the timers page and the
filtered request list)."""
import argparse, hashlib, http.client, json, os, shutil, signal, sqlite3, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "bench-token-se"


def start(server, config, db, tokens):
    proc = subprocess.Popen([server, "--config", config, "--db", db, "--tokens", tokens, "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        sys.exit(f"the server did not start: {line!r}")
    host, port = line.rsplit("http://", 1)[1].strip().rsplit(":", 1)
    return proc, host, int(port)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)


def call(conn, method, target, body=None):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, target, body=body, headers=headers)
    res = conn.getresponse()
    data = res.read()
    return res.status, data


def seed_api(host, port, count):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    for i in range(count):
        kind = "feature_request" if i % 4 == 0 else "troubleshooting"
        stage = "trial" if i % 2 == 0 else "production"
        customer = {"id": f"cust-{i % 50}", "name": f"Customer {i % 50}", "stage": stage}
        if stage == "production":
            customer["tier"] = "premium"
        body = json.dumps({"kind": kind, "customer": customer, "title": f"Bench request {i}",
                           "body": "Search results are missing repositories since the upgrade.", "source": "api"})
        status, data = call(conn, "POST", "/v1/requests", body)
        if status != 201:
            sys.exit(f"filing failed: {status} {data[:300]!r}")
    conn.close()


def grow(db, target, open_every):
    con = sqlite3.connect(db)
    base = con.execute("SELECT COUNT(*), MAX(id) FROM requests").fetchone()
    n, top = base
    copies = (target + n - 1) // n - 1
    con.execute("BEGIN")
    for k in range(1, copies + 1):
        shift = k * top
        keep_open = k % open_every == 0
        con.execute("""INSERT INTO requests (id, kind, customer_id, status, owner, created_at, updated_at, document, next_due)
                       SELECT id + ?1, kind, customer_id || '-' || ?2, CASE WHEN ?3 THEN status ELSE 'resolved' END, owner,
                              created_at + ?2, updated_at + ?2, json_set(document, '$.id', id + ?1), CASE WHEN ?3 THEN next_due + ?2 END
                       FROM requests WHERE id <= ?4""", (shift, k, keep_open, top))
        # Every list row's summary (migration 13): the timers page reads requests from it, and a
        # copy without one would be read from its whole document, a path real rows never take.
        con.execute("""INSERT INTO request_summaries (request_id, summary)
                       SELECT request_id + ?1, CASE WHEN ?3 THEN summary ELSE json_set(summary, '$.status', 'resolved') END
                       FROM request_summaries WHERE request_id <= ?4""", (shift, k, keep_open, top))
        con.execute("""INSERT INTO clocks (request_id, metric, state, open, deadline, next_due, owner, warned, paused, urgency,
                                           breached)
                       SELECT request_id + ?1, metric, CASE WHEN ?3 THEN state ELSE 'met' END, CASE WHEN ?3 THEN open ELSE 0 END,
                              deadline + ?2, CASE WHEN ?3 THEN next_due + ?2 END, owner, warned, paused,
                              CASE WHEN ?3 THEN urgency + CASE WHEN paused THEN 0 ELSE ?2 END END, breached
                       FROM clocks WHERE request_id <= ?4""", (shift, k, keep_open, top))
        if k % 100 == 0:
            con.execute("COMMIT")
            con.execute("BEGIN")
    con.execute("COMMIT")
    total = con.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    open_clocks = con.execute("SELECT SUM(clocks) FROM open_clock_counts").fetchone()[0]
    con.close()
    return total, open_clocks


def measure(host, port, target, samples):
    conn = http.client.HTTPConnection(host, port, timeout=120)
    times = []
    size = 0
    for _ in range(samples):
        began = time.perf_counter()
        status, data = call(conn, "GET", target)
        times.append((time.perf_counter() - began) * 1000)
        if status != 200:
            sys.exit(f"GET {target}: {status} {data[:300]!r}")
        size = len(data)
    conn.close()
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))], size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1000, help="requests filed through the API before copying")
    parser.add_argument("--open-every", type=int, default=5)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--server", default=os.path.join(root, "build/src/switchboard"))
    parser.add_argument("--work", default=None)
    args = parser.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="switchboard-reads-")
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "bench.db")
    tokens = os.path.join(work, "tokens.toml")
    with open(tokens, "w") as f:
        f.write(f'[[token]]\nperson = "bench"\nrole = "se"\nsha256 = "{hashlib.sha256(TOKEN.encode()).hexdigest()}"\n')
    config = os.path.join(root, "config/switchboard.toml")

    if not os.path.exists(db):
        began = time.time()
        proc, host, port = start(args.server, config, db, tokens)
        seed_api(host, port, args.seed)
        stop(proc)
        total, open_clocks = grow(db, args.requests, args.open_every)
        print(f"seeded {total} requests, {open_clocks} open clocks in {time.time() - began:.0f} s ({db})", file=sys.stderr)

    began = time.time()
    proc, host, port = start(args.server, config, db, tokens)
    started = time.time() - began
    try:
        con = sqlite3.connect(db)
        total = con.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        open_clocks = con.execute("SELECT SUM(clocks) FROM open_clock_counts").fetchone()[0]
        con.close()
        rows = [
            ("GET /v1/sla/timers?limit=100", "/v1/sla/timers?limit=100", 10.0),
            ("GET /v1/sla/timers?team=product&limit=100", "/v1/sla/timers?team=product&limit=100", None),
            ("GET /v1/requests?team=se&status=open&limit=100", "/v1/requests?team=se&status=open&limit=100", 10.0),
            ("GET /v1/requests?customer=cust-7&limit=100", "/v1/requests?customer=cust-7&limit=100", None),
            ("GET /v1/dashboard/clocks (200 clocks)", "/v1/dashboard/clocks", None),
            ("GET /healthz", "/healthz", None),
        ]
        print(f"{total} requests, {open_clocks} open clocks; server started in {started:.1f} s; "
              f"{args.samples} sequential keep-alive GETs each")
        print(f"{'read':<50} {'p50 ms':>8} {'p99 ms':>8} {'bytes':>9} {'target':>10}")
        failed = False
        for name, target, bound in rows:
            p50, p99, size = measure(host, port, target, args.samples)
            verdict = "" if bound is None else ("ok" if p99 < bound else "MISSED")
            failed |= verdict == "MISSED"
            print(f"{name:<50} {p50:>8.2f} {p99:>8.2f} {size:>9} {('<' + str(bound) + ' ' + verdict) if bound else '':>10}")
    finally:
        stop(proc)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
