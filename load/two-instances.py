#!/usr/bin/env python3
"""Two `cem` instances on one PostgreSQL database: no customer called twice, and how fast a
call made on one instance reaches a screen connected to the other.

    python3 load/two-instances.py [--calls 100000] [--clients 20]

What it does:
  1. builds the release binary (cargo build --release -p cem-server; CARGO_TARGET_DIR is
     honoured; --cem PATH skips the build), creates a fresh PostgreSQL database
     cem_load_two_<pid> with psql, and starts instance A on 127.0.0.1:18081 and then, once A is
     ready (A applied the migrations and created the administrator), instance B on
     127.0.0.1:18082, both on that database; their output (logs and errors) goes to load/server-A.log
     and load/server-B.log;
  2. through A: signs in as the administrator, creates the priority class `normal` (an
     organization without the demo has none) and an always-open branch with one service
     and 20 counters, opens every counter and registers a kiosk;
  3. starts a screen: a separate process connected to B's live stream
     (GET /api/v1/branches/{b}/events with the admin token) that timestamps every
     `ticket_called` event;
  4. waits until the 1-minute load average is below 1.0 (polling every 30 s, 20 min at most),
     then runs 20 counter clients (threads, one keep-alive connection each; client i talks to
     A when i is even, to B otherwise, at counter i) that each repeat
        issue (kiosk token) -> call-next -> start -> finish (admin token)
     until the successful call-nexts add up to --calls (or --max-secs passed), recording the
     ticket id of every successful call-next and when its answer arrived;
  5. reports (and writes to load/results-two-instances.txt): customers called twice (ticket ids in more than one successful call-next; also
     ticket ids with more than one `ticket_called` event on the screen), a cross-check of a
     sample of called tickets with GET /tickets/{id} (state and counter), failed steps by
     status and problem code, and for the calls made on A the delay until B's screen got them:
     count, median, p99, max (and how many never arrived);
  6. stops both servers and drops the database, also on Ctrl-C or an error.

Only the Python standard library; only 127.0.0.1.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HOST = "127.0.0.1"


# --------------------------------------------------------------------------------------------
# HTTP

class Api:
    """A keep-alive connection to one instance; `call` returns (status, parsed JSON or text)."""

    def __init__(self, port, token=None, timeout=30):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn = None

    def call(self, method, path, body=None, token=None):
        token = token or self.token
        headers = {}
        if token:
            headers["authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                # A keep-alive connection the server closed: reconnect once.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return resp.status, parsed

    def ok(self, method, path, body=None, token=None):
        status, doc = self.call(method, path, body, token)
        if not 200 <= status < 300:
            raise RuntimeError(f"{method} {path} -> {status} {doc}")
        return doc

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def problem_code(doc):
    if doc is None or doc == "":
        return "(empty body)"
    return doc.get("code", "-") if isinstance(doc, dict) else "-"


# --------------------------------------------------------------------------------------------
# The screen: a separate process (so the 20 client threads do not hold its GIL) that reads B's
# live stream and writes "ticket<TAB>monotonic time<TAB>position" per ticket_called event.

def screen_main(port, branch, token, out_path):
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    last_id = None
    connects = 0
    with open(out_path, "w", buffering=1) as out:
        while not stop:
            conn = http.client.HTTPConnection(HOST, port, timeout=None)
            headers = {"authorization": "Bearer " + token, "accept": "text/event-stream"}
            if last_id is not None:
                headers["last-event-id"] = last_id
            try:
                conn.request("GET", f"/api/v1/branches/{branch}/events", headers=headers)
                resp = conn.getresponse()
                connects += 1
                out.write(f"#CONNECTED\t{time.monotonic():.6f}\t{resp.status}\n")
                if resp.status != 200:
                    out.write(f"#HTTP\t{resp.status}\t{resp.read()[:500]!r}\n")
                    time.sleep(1)
                    continue
                if connects == 1:
                    sys.stdout.write("connected\n")
                    sys.stdout.flush()
                event = None
                while True:
                    line = resp.readline()
                    if not line:
                        out.write(f"#EOF\t{time.monotonic():.6f}\n")
                        break
                    now = time.monotonic()
                    if line.startswith(b"event:"):
                        event = line[6:].strip().decode()
                        if event == "reset":
                            out.write(f"#RESET\t{now:.6f}\n")
                    elif line.startswith(b"id:"):
                        last_id = line[3:].strip().decode()
                    elif line.startswith(b"data:") and event == "queue":
                        doc = json.loads(line[5:])
                        body = doc.get("event", {})
                        if body.get("type") == "ticket_called":
                            out.write(f"{body.get('ticket')}\t{now:.6f}\t{doc.get('position')}"
                                      f"\t{time.time():.6f}\t{doc.get('at')}\n")
                    elif line in (b"\n", b"\r\n"):
                        event = None
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                out.write(f"#ERROR\t{time.monotonic():.6f}\t{e!r}\n")
                time.sleep(0.5)
            finally:
                conn.close()


# --------------------------------------------------------------------------------------------
# Servers and the database

class Cluster:
    def __init__(self, args):
        self.args = args
        self.db = None
        self.servers = []   # (name, Popen, log file)
        self.screen = None
        self.password = f"load-{os.getpid()}-{random.randrange(10**9)}"

    def psql(self, sql):
        subprocess.run(["psql", f"{self.args.pg}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
                       check=True, stdout=subprocess.DEVNULL)

    def create_db(self):
        name = f"cem_load_two_{os.getpid()}"
        self.psql(f"CREATE DATABASE {name}")
        self.db = name
        return f"{self.args.pg}/{name}"

    def start(self, name, port, url):
        if probe(port, "/health", 1) is not None:
            raise RuntimeError(f"something already listens on {HOST}:{port}")
        log_path = os.path.join(HERE, f"server-{name}.log")
        log = open(log_path, "w")
        env = dict(os.environ, NO_COLOR="1",
                   CEM_LISTEN=f"{HOST}:{port}", CEM_DATABASE_URL=url, CEM_DEMO="false",
                   CEM_ADMIN_PASSWORD=self.password, CEM_PUBLIC_PER_MINUTE="1000000000",
                   CEM_LOG="warn")
        # The server logs to stdout (tracing's default) and reports errors on stderr: keep both.
        proc = subprocess.Popen([self.args.cem, "serve"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.servers.append((name, proc, log))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if probe(port, "/ready", 2) == 200:
                return
            if proc.poll() is not None:
                raise RuntimeError(f"instance {name} exited at start; see {log_path}")
            time.sleep(0.1)
        raise RuntimeError(f"instance {name} is not ready after 60 s; see {log_path}")

    def stop(self):
        if self.screen is not None and self.screen.poll() is None:
            self.screen.terminate()
            try:
                self.screen.wait(5)
            except subprocess.TimeoutExpired:
                self.screen.kill()
        for name, proc, log in self.servers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc, log in self.servers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                print(f"instance {name} did not stop within 15 s: killed", file=sys.stderr)
                proc.kill()
                proc.wait()
            log.close()
        self.servers = []
        if self.db:
            try:
                self.psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
            except subprocess.CalledProcessError:
                print(f"warning: could not drop the database {self.db}", file=sys.stderr)
            self.db = None


def git(argv):
    try:
        return subprocess.run(["git", "-C", ROOT] + argv, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def probe(port, path, timeout):
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def wait_quiet(max_load, max_wait):
    waited = 0
    while True:
        load1 = os.getloadavg()[0]
        if load1 < max_load:
            break
        if waited >= max_wait:
            print(f"  load average still {load1:.2f} after {waited} s: measuring anyway")
            break
        print(f"  load average {load1:.2f} >= {max_load}: waiting 30 s ({waited} s so far)",
              flush=True)
        time.sleep(30)
        waited += 30
    return "%.2f %.2f %.2f" % os.getloadavg()


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    # Nearest rank.
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


# --------------------------------------------------------------------------------------------
# The run

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=100_000, help="successful call-nexts to reach")
    p.add_argument("--clients", type=int, default=20, help="counter clients (and counters)")
    p.add_argument("--max-secs", type=float, default=1800, help="stop the clients after this")
    p.add_argument("--sample", type=int, default=1000, help="called tickets to cross-check")
    p.add_argument("--pg", default=os.environ.get("CEM_LOAD_PG", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--cem", help="a built `cem` binary (default: build the release one)")
    p.add_argument("--ports", type=int, nargs=2, default=[18081, 18082], metavar=("A", "B"))
    p.add_argument("--max-load", type=float, default=1.0)
    p.add_argument("--max-wait", type=int, default=1200)
    p.add_argument("--screen", nargs=4, help=argparse.SUPPRESS)  # internal: the screen process
    args = p.parse_args()
    if args.screen:
        port, branch, token, out = args.screen
        screen_main(int(port), branch, token, out)
        return 0

    built_from = "git " + git(["rev-parse", "--short", "HEAD"])
    if git(["status", "--porcelain", "--untracked-files=no"]):
        built_from += " with uncommitted changes"
    args.built_from = ("given with --cem; the work tree was at " if args.cem
                       else "built from ") + built_from
    if not args.cem:
        print("== building: cargo build --release -p cem-server", flush=True)
        subprocess.run(["cargo", "build", "--release", "-p", "cem-server"], cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
        args.cem = os.path.join(target, "release", "cem")
    port_a, port_b = args.ports

    cluster = Cluster(args)
    def on_term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    tmp = tempfile.mkdtemp(prefix="cem-two-")
    screen_file = os.path.join(tmp, "screen.tsv")
    try:
        url = cluster.create_db()
        print(f"== database {cluster.db}; starting A on :{port_a}, then B on :{port_b}", flush=True)
        cluster.start("A", port_a, url)
        cluster.start("B", port_b, url)
        return run(args, cluster, screen_file)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the servers and dropping the database", file=sys.stderr)
        return 130
    finally:
        cluster.stop()
        try:
            os.remove(screen_file)
            os.rmdir(tmp)
        except OSError:
            pass


def run(args, cluster, screen_file):
    port_a, port_b = args.ports
    a = Api(port_a)
    login = a.ok("POST", "/api/v1/auth/login", {"login": "admin", "password": cluster.password})
    admin = login["token"]
    a.token = admin
    org = a.ok("GET", "/api/v1/organization")["id"]
    # Without the demo the organization has no priority class yet, and a branch needs one.
    klass = str(uuid.uuid4())
    a.ok("PUT", f"/api/v1/classes/{klass}", {"id": klass, "code": "normal",
                                            "name": {"en": "Normal"}, "rank": 1, "weight": 1})
    branch, service = str(uuid.uuid4()), str(uuid.uuid4())
    base = f"/api/v1/branches/{branch}"
    a.ok("PUT", base, {"id": branch, "organization": org, "name": {"en": "Two instances"},
                       "time_zone": "UTC", "opening_hours": []})
    a.ok("PUT", f"{base}/services/{service}",
         {"id": service, "prefix": "A", "name": {"en": "Load"}, "expected_service_secs": 180,
          "target_wait_secs": 600})
    counters = []  # (id, number)
    for n in range(1, args.clients + 1):
        cid = str(uuid.uuid4())
        a.ok("PUT", f"{base}/counters/{cid}",
             {"id": cid, "number": n, "profile": {"services": [{"service": service}]}})
        counters.append((cid, n))
    for cid, _ in counters:
        a.ok("POST", f"{base}/counters/{cid}/open")
    kiosk = a.ok("POST", f"{base}/devices", {"kind": "kiosk", "name": "Load kiosk"})["token"]
    print(f"== branch {branch}: 1 service, {len(counters)} counters open, set up through A",
          flush=True)

    # The screen on B.
    cluster.screen = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--screen", str(port_b), branch, admin,
         screen_file], stdout=subprocess.PIPE, text=True, start_new_session=True)
    line = cluster.screen.stdout.readline()
    if line.strip() != "connected":
        raise RuntimeError(f"the screen could not connect to B's live stream: {line!r}")
    print(f"== screen connected to B's live stream", flush=True)

    print(f"== waiting for a 1-minute load average below {args.max_load}", flush=True)
    load_before = wait_quiet(args.max_load, args.max_wait)
    print(f"== load average before the run: {load_before}", flush=True)

    lock = threading.Lock()
    state = {"ok": 0, "stop": False}
    calls = []        # (ticket, instance, monotonic answer time, counter number)
    failures = {}     # (instance, step, status, code) -> count
    failure_samples = {}  # same key -> a few bodies
    step_times = {}   # (instance, step) -> [seconds]
    exceptions = []

    def client(i):
        inst = "A" if i % 2 == 0 else "B"
        port = port_a if inst == "A" else port_b
        cid, number = counters[i % len(counters)]
        api = Api(port, admin)
        at = f"{base}/counters/{cid}/"
        times = {}   # step -> [seconds]

        def step(name, method, path, body=None, token=None):
            t0 = time.monotonic()
            status, doc = api.call(method, path, body, token)
            t1 = time.monotonic()
            wall = time.time()
            times.setdefault(name, []).append(t1 - t0)
            if not 200 <= status < 300:
                key = (inst, name, status, problem_code(doc))
                with lock:
                    failures[key] = failures.get(key, 0) + 1
                    kept = failure_samples.setdefault(key, [])
                    if len(kept) < 3:
                        text = doc if isinstance(doc, str) or doc is None else json.dumps(doc)
                        kept.append(f"after {t1 - t0:.3f} s: {(text or '(empty body)')[:300]}")
            return status, doc, (t1, wall)

        def free_counter():
            # The counter holds a ticket we do not know (a call-next, start or finish that
            # failed, e.g. timed out, may still have been applied): start and finish it.
            step("recover-start", "POST", at + "start")
            step("recover-finish", "POST", at + "finish")

        try:
            while not state["stop"]:
                status, doc, _ = step("issue", "POST", f"{base}/tickets", {"service": service},
                                      kiosk)
                if status != 201:
                    continue
                status, doc, (answered, answered_wall) = step("call-next", "POST",
                                                              at + "call-next")
                if status != 200:
                    if problem_code(doc) == "counter_busy":
                        free_counter()
                    continue
                ticket = (doc.get("ticket") or {}).get("id")
                with lock:
                    calls.append((ticket, inst, answered, number, answered_wall))
                    state["ok"] += 1
                    if state["ok"] >= args.calls:
                        state["stop"] = True
                status, doc, _ = step("start", "POST", at + "start")
                status, doc, _ = step("finish", "POST", at + "finish")
                if status != 200:
                    free_counter()
        except Exception as e:  # noqa: BLE001 - reported, and the run goes on without it
            with lock:
                exceptions.append(f"client {i} ({inst}): {e!r}")
        finally:
            api.close()
            with lock:
                for name, values in times.items():
                    step_times.setdefault((inst, name), []).extend(values)

    print(f"== {args.clients} counter clients (even: A, odd: B), until {args.calls:,} "
          f"successful call-nexts", flush=True)
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,), daemon=True)
               for i in range(args.clients)]
    for t in threads:
        t.start()
    last_report = started
    screen_pos = {"offset": 0, "seen": 0}

    def screen_progress():
        # Counts the ticket_called lines the screen wrote since the last look.
        with open(screen_file, "rb") as f:
            f.seek(screen_pos["offset"])
            data = f.read()
        complete = data[:data.rfind(b"\n") + 1]
        screen_pos["offset"] += len(complete)
        screen_pos["seen"] += sum(1 for line in complete.splitlines()
                                  if line and not line.startswith(b"#"))
        return screen_pos["seen"]
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        now = time.monotonic()
        if now - started > args.max_secs and not state["stop"]:
            print(f"   --max-secs {args.max_secs:.0f} reached: stopping the clients", flush=True)
            state["stop"] = True
        if now - last_report >= 10:
            last_report = now
            with lock:
                ok, nfail = state["ok"], sum(failures.values())
            seen = screen_progress()
            print(f"   {now - started:6.0f} s  {ok:>7,} calls  {ok / (now - started):6.1f}/s  "
                  f"failed steps {nfail}  screen on B has seen {seen:,} calls  "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
    elapsed = time.monotonic() - started
    load_after = "%.2f %.2f %.2f" % os.getloadavg()
    total = state["ok"]
    print(f"== clients done: {total:,} successful call-nexts in {elapsed:.1f} s "
          f"({total / elapsed:.1f}/s); load average at the end: {load_after}", flush=True)

    # Let the screen catch up: until every call is seen, or nothing new for 5 s (30 s at most).
    wanted = {c[0] for c in calls}
    seen_lines, quiet_since, deadline = -1, time.monotonic(), time.monotonic() + 30
    while time.monotonic() < deadline:
        screen = read_screen(screen_file)
        if wanted <= set(screen["first"]):
            break
        if screen["lines"] != seen_lines:
            seen_lines, quiet_since = screen["lines"], time.monotonic()
        elif time.monotonic() - quiet_since > 5:
            break
        time.sleep(0.5)
    cluster.screen.terminate()
    cluster.screen.wait(5)
    screen = read_screen(screen_file)

    # Double calls.
    by_ticket = {}
    for ticket, inst, t, number, _ in calls:
        by_ticket.setdefault(ticket, []).append((inst, t, number))
    twice = {k: v for k, v in by_ticket.items() if len(v) > 1}
    screen_twice = {k: n for k, n in screen["count"].items() if n > 1}

    # Cross-check a sample with GET /tickets/{id}, half through A and half through B.
    sample = random.sample(sorted(by_ticket), min(args.sample, len(by_ticket)))
    states, mismatched, check_fail = {}, [], []
    apis = {"A": Api(port_a, admin), "B": Api(port_b, admin)}
    for k, ticket in enumerate(sample):
        inst = "A" if k % 2 == 0 else "B"
        status, doc = apis[inst].call("GET", f"{base}/tickets/{ticket}")
        if status != 200:
            check_fail.append((ticket, inst, status, problem_code(doc)))
            continue
        states[doc["state"]] = states.get(doc["state"], 0) + 1
        called_by = by_ticket[ticket][-1][2]
        if doc.get("counter") != called_by or doc.get("called_at") is None:
            mismatched.append((ticket, inst, doc.get("state"), doc.get("counter"), called_by))
    for api in apis.values():
        api.close()

    # Delays: calls answered by A, seen on B's screen.
    # Also, to tell the parts apart, from the event's `at` (the instant A took as "now" for
    # the call, before it waited for the branch) to the screen, and to A's answer at the client.
    delays, missing, at_to_screen, at_to_answer = [], 0, [], []
    for ticket, inst, t, number, wall in calls:
        if inst != "A":
            continue
        seen = screen["first"].get(ticket)
        if seen is None:
            missing += 1
            continue
        delays.append(seen - t)
        at = screen["at"].get(ticket)
        if at is not None:
            at_to_screen.append(screen["wall"][ticket] - at)
            at_to_answer.append(wall - at)
    delays.sort()
    at_to_screen.sort()
    at_to_answer.sort()

    def ms(x):
        return f"{x * 1000:.1f} ms"

    report = []

    def say(line=""):
        print(line)
        report.append(line)

    say()
    say("Results")
    say(f"  server: {args.cem} ({args.built_from})")
    say("  command: python3 load/two-instances.py " + " ".join(sys.argv[1:]))
    say(f"  load average before: {load_before}; at the end of the clients: {load_after}")
    say(f"  successful call-nexts: {total:,} in {elapsed:.1f} s ({total / elapsed:.1f}/s), "
          f"A {sum(1 for c in calls if c[1] == 'A'):,}, B {sum(1 for c in calls if c[1] == 'B'):,}; "
          f"distinct tickets called: {len(by_ticket):,}")
    say(f"  customers called twice (ticket ids in more than one successful call-next): "
          f"{len(twice)}")
    for ticket, v in list(twice.items())[:10]:
        say(f"    {ticket}: " + ", ".join(f"{i} counter {n}" for i, _, n in v))
    say(f"  tickets with more than one ticket_called event on B's screen: {len(screen_twice)}")
    say(f"  cross-check of {len(sample)} called tickets with GET /tickets/{{id}} (half A, half B):"
          f" states {states or '-'}; counter differs from the one that called it: "
          f"{len(mismatched)}; failed reads: {len(check_fail)}")
    for m in mismatched[:10]:
        say(f"    mismatch: {m}")
    for f in check_fail[:10]:
        say(f"    failed read: {f}")
    say("  failed steps (instance, step, status, code: count): "
          + ("none" if not failures else ""))
    for key, n in sorted(failures.items(), key=lambda kv: -kv[1]):
        say(f"    {key[0]} {key[1]} {key[2]} {key[3]}: {n}")
        for sample in failure_samples.get(key, []):
            say(f"        e.g. {sample}")
    say("  latency by instance and step (all answers): count, median, p99, max")
    for (inst, name), values in sorted(step_times.items()):
        values.sort()
        say(f"    {inst} {name:<14} {len(values):>8,}  {ms(statistics.median(values)):>10}  "
              f"{ms(percentile(values, 99)):>10}  {ms(values[-1]):>10}")
    for e in exceptions:
        say(f"    client exception: {e}")
    say(f"  screen on B: {screen['events']:,} ticket_called events, {screen['connects']} "
          f"connection(s), {screen['resets']} reset(s), {len(screen['errors'])} error(s)")
    for e in screen["errors"][:5]:
        say(f"    {e}")
    if delays:
        negative = sum(1 for d in delays if d < 0)
        say(f"  delay A's call-next answered -> B's screen received (calls made on A): "
              f"count {len(delays):,}, median {ms(statistics.median(delays))}, "
              f"p99 {ms(percentile(delays, 99))}, max {ms(delays[-1])}, min {ms(delays[0])} "
              f"({negative} negative: the event reached B before A's answer reached the client); "
              f"never received: {missing}")
        for label, values in (("  its parts: A took the call (event `at`) -> B's screen received",
                               at_to_screen),
                              ("             A took the call (event `at`) -> A's answer at the client",
                               at_to_answer)):
            if values:
                say(f"{label}: median {ms(statistics.median(values))}, "
                      f"p99 {ms(percentile(values, 99))}, max {ms(values[-1])}")
    else:
        say(f"  delay: no call made on A was seen on B's screen (never received: {missing})")
    with open(os.path.join(HERE, "results-two-instances.txt"), "w") as f:
        f.write("\n".join(report[1:]) + "\n")
    ok = not twice and not screen_twice and not mismatched and missing == 0
    return 0 if ok else 1


def parse_instant(text):
    """Seconds since the epoch of an RFC 3339 instant (`2026-11-27T22:17:51.686262123Z`)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        return None
    base = datetime.datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z" else m.group(3)))
    return base.timestamp() + float("0." + (m.group(2) or "0"))


def read_screen(path):
    out = {"first": {}, "wall": {}, "at": {}, "count": {}, "events": 0, "lines": 0, "resets": 0, "connects": 0,
           "errors": []}
    try:
        f = open(path)
    except OSError:
        return out
    with f:
        for line in f:
            out["lines"] += 1
            parts = line.rstrip("\n").split("\t")
            if parts[0].startswith("#"):
                if parts[0] == "#RESET":
                    out["resets"] += 1
                elif parts[0] == "#CONNECTED":
                    out["connects"] += 1
                elif parts[0] in ("#ERROR", "#HTTP", "#EOF"):
                    out["errors"].append(" ".join(parts))
                continue
            if len(parts) < 2:
                continue
            ticket, t = parts[0], float(parts[1])
            out["events"] += 1
            out["count"][ticket] = out["count"].get(ticket, 0) + 1
            if ticket not in out["first"]:
                out["first"][ticket] = t
                if len(parts) >= 5:
                    out["wall"][ticket] = float(parts[3])
                    out["at"][ticket] = parse_instant(parts[4])
    return out


if __name__ == "__main__":
    sys.exit(main())
