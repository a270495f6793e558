#!/usr/bin/env python3
"""Runs one example program against a cqlsim started for it (a child process on free
loopback ports) and checks the example's exit status and what it printed.

    run_example.py --cqlsim PATH --example PATH --check NAME

NAME is the example's name; each has a check function below.

With CQL_CONTACT_POINTS set (and CQL_PORT), the examples run against that cluster instead.
What needs cqlsim's admin endpoint (request logs, latency) is then skipped with a printed
reason, and so is what needs a server setting the environment does not name: TLS without
CQL_TLS_CA (the CA of the server's certificate), logins without CQL_USER/CQL_PASSWORD.
"""
import argparse
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TIMEOUT = 60  # seconds for one run of an example


class Failure(Exception):
    pass


def read_line(proc, deadline):
    """One line of a child's stdout, waiting at most until `deadline`."""
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("timed out waiting for output of %s (got %r)" % (proc.args[0], line))
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            ch = os.read(proc.stdout.fileno(), 1)
            if not ch:
                raise Failure("%s exited (status %s) before printing a full line: %r"
                              % (proc.args[0], proc.poll(), line))
            line += ch
    return line.decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cqlsim:
    """A cqlsim child process; `contact` is "127.0.0.1:PORT" of its first node."""

    def __init__(self, binary, nodes=3, extra=(), admin=False):
        self.admin_port = free_port() if admin else None
        cmd = [binary, "--nodes", str(nodes), "--port", "0"] + list(extra)
        if admin:
            cmd += ["--admin-port", str(self.admin_port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=sys.stderr)
        deadline = time.monotonic() + 30
        self.nodes = []
        while True:
            line = read_line(self.proc, deadline).strip()
            if line == "ready":
                break
            if line.startswith("node "):
                self.nodes.append(line.split()[2])
        self.contact = self.nodes[0]

    def admin(self, *commands):
        """Runs admin commands; returns the data lines of their replies."""
        with socket.create_connection(("127.0.0.1", self.admin_port), timeout=10) as s:
            s.sendall(("\n".join(commands) + "\nquit\n").encode())
            data = b""
            while not data.endswith(b"bye\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        lines = data.decode().splitlines()
        errors = [l for l in lines if l.startswith("error")]
        if errors:
            raise Failure("admin command failed: %s" % errors)
        return [l for l in lines if l not in ("ok", "bye")]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RealCluster:
    """The cluster of CQL_CONTACT_POINTS/CQL_PORT, in place of a cqlsim child."""

    def __init__(self):
        first = os.environ["CQL_CONTACT_POINTS"].split(",")[0].strip()
        port = os.environ.get("CQL_PORT")
        self.contact = first if ":" in first or not port else "%s:%s" % (first, port)
        self.admin_port = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def real_cluster():
    return bool(os.environ.get("CQL_CONTACT_POINTS"))


def server(sim_bin, **cqlsim_options):
    """The cluster to run an example against: a fresh cqlsim, or the real one."""
    return RealCluster() if real_cluster() else Cqlsim(sim_bin, **cqlsim_options)


def skipped(what, why):
    print("skipped %s: %s" % (what, why))


def run(example, args=(), env_contact=None):
    env = dict(os.environ)
    env.pop("CQL_CONTACT_POINTS", None)
    if env_contact:
        env["CQL_CONTACT_POINTS"] = env_contact
    p = subprocess.run([example] + list(args), capture_output=True, text=True, env=env,
                       timeout=TIMEOUT)
    print("$ %s %s  -> exit %d" % (os.path.basename(example), " ".join(args), p.returncode))
    print(p.stdout, end="")
    if p.stderr:
        print("[stderr]\n" + p.stderr, end="")
    return p.returncode, p.stdout, p.stderr


def expect(condition, what):
    if not condition:
        raise Failure(what)


def expect_lines(text, patterns):
    """Every regex matches a whole line of `text`, in this order."""
    lines = text.splitlines()
    at = 0
    for pat in patterns:
        rx = re.compile(pat)
        while at < len(lines) and not rx.fullmatch(lines[at]):
            at += 1
        expect(at < len(lines), "no line matching %r (in order) in the output" % pat)
        at += 1


QUICKSTART = [
    r"connected: %s host\(s\), protocol v[45]" % (r"\d+" if real_cluster() else "3"),
    r"inserted 3 users",
    r"user 1: Ada Lovelace <ada@example\.com>",
    r"user 2: Alan Turing <alan@example\.com>",
    r"user 3: Grace Hopper <grace@example\.com>",
    r"closed",
]


def check_quickstart(sim_bin, example):
    with server(sim_bin) as sim:
        rc, out, _ = run(example, [sim.contact])
        expect(rc == 0, "exit status %d" % rc)
        expect_lines(out, QUICKSTART)
        # The contact points may come from the environment instead.
        rc, out, _ = run(example, env_contact=sim.contact)
        expect(rc == 0, "exit status %d with CQL_CONTACT_POINTS" % rc)
        expect_lines(out, QUICKSTART)
    # Nothing listens there: a clear failure, not a hang or a crash.
    port = free_port()
    rc, out, err = run(example, ["127.0.0.1:%d" % port])
    expect(rc == 1, "exit status %d against a closed port" % rc)
    expect("127.0.0.1:%d" % port in err, "the error names the contact point")


def check_paging_stream(sim_bin, example):
    with server(sim_bin) as sim:
        rc, out, _ = run(example, [sim.contact, "3000"])
        expect(rc == 0, "exit status %d" % rc)
        pages = ["page %d: 500 rows, seq %d\\.\\.%d" % (i + 1, i * 500, i * 500 + 499)
                 for i in range(6)]
        # A last empty page is allowed: a server that stops exactly at a page boundary
        # cannot know there is nothing after it (Cassandra does the same).
        expect_lines(out, [r"wrote 3000 rows"] + pages + [
            r"streamed 3000 rows in [67] pages",
            r"saved a paging state of [1-9][0-9]* bytes after 2 pages",
            r"resumed at seq 1000: 2000 more rows in [45] pages",
        ])


def check_prepared_and_batch(sim_bin, example):
    with server(sim_bin) as sim:
        for _ in range(2):  # a second run starts from a clean slate too
            rc, out, _ = run(example, [sim.contact])
            expect(rc == 0, "exit status %d" % rc)
            expect_lines(out, [
                r"customer ada@example\.com registered as Ada Lovelace",
                r"customer ada@example\.com not registered as Ada Byron: already taken by Ada Lovelace",
                r"order 1001 written in one logged batch of 4 statements",
                r"  line 1: 3 x notebook",
                r"  line 2: 1 x fountain pen",
                r"  line 3: 2 x ink",
                r"order 1001 new -> paid: applied",
                r"order 1001 new -> paid: not applied \(status changed meanwhile\)",
                r"order 1001: total 58\.50, status paid",
            ])


def check_object_mapping(sim_bin, example):
    with server(sim_bin) as sim:
        for first in (True, False):  # the second run finds the tables made by the first
            rc, out, _ = run(example, [sim.contact])
            expect(rc == 0, "exit status %d" % rc)
            # (a real cluster may keep the tables of an earlier run of this test)
            made = "0" if not first else "[02]" if real_cluster() else "2"
            expect_lines(out, [
                r"schema: customers ready, %s statement\(s\) run" % made,
                r"customer ada@example\.com registered as Ada Lovelace",
                r"customer ada@example\.com not registered as Ada Byron: already taken by "
                r"Ada Lovelace \(London\)",
                r"3 orders placed in one logged batch, sales counted in a counter batch",
                r"  order 3: 2 x ink \(new\)",
                r"  order 2: 1 x fountain pen \(new\)",
                r"order 3 new -> paid: applied",
                r"order 3 new -> paid: not applied, it is paid",
                r"ink sold: 2",
                r"streamed 3 orders in 2 pages",
                r"refused \(the query builder refused the query\): cql mapping: where: column "
                r"'quantity' is not part of the primary key \(add allow_filtering\(\) to filter "
                r"on it\)",
            ])


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_certificates(d):
    """A CA, a server certificate it signs (for 127.0.0.1) and an unrelated CA."""
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", ca + ".key", "-out", ca + ".pem", "-subj", "/CN=" + ca, cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=cqlsim", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=d)


def check_tls_and_auth_real(example):
    """Against the real cluster: its CA from CQL_TLS_CA, its login from CQL_USER/CQL_PASSWORD."""
    ca = os.environ.get("CQL_TLS_CA")
    if not ca:
        skipped("tls_and_auth", "the server's certificate authority is unknown (CQL_TLS_CA unset)")
        return
    contact = RealCluster().contact
    user = os.environ.get("CQL_USER")
    password = os.environ.get("CQL_PASSWORD", "")
    rc, out, _ = run(example, [contact, "--ca", ca, "--user", user or "nobody",
                               "--password", password])
    expect(rc == 0, "exit status %d" % rc)
    expect_lines(out, [r"connected over TLS as \S+ to \d+ host\(s\)", r"cluster \S+, release \S+"])
    if user:
        rc, out, _ = run(example, [contact, "--ca", ca, "--user", user, "--password",
                                   password + "-wrong"])
        expect(rc == 1, "exit status %d with a wrong password" % rc)
        expect_lines(out, [r"connect failed: .*", r"details: .*" + re.escape(
            "Provided username %s and/or password are incorrect" % user) + ".*"])
    else:
        skipped("the wrong password", "the server's login is unknown (CQL_USER unset)")
    with tempfile.TemporaryDirectory() as d:
        make_certificates(d)
        rc, out, _ = run(example, [contact, "--ca", os.path.join(d, "other-ca.pem"), "--user",
                                   user or "nobody", "--password", password])
        expect(rc == 1, "exit status %d with a CA that did not sign the server's certificate" % rc)
        expect_lines(out, [r"connect failed: .*", r"details: .*certificate verify failed.*"])


def check_tls_and_auth(sim_bin, example):
    if real_cluster():
        return check_tls_and_auth_real(example)
    with tempfile.TemporaryDirectory() as d:
        make_certificates(d)
        pem = lambda n: os.path.join(d, n)
        with Cqlsim(sim_bin, nodes=1, extra=["--auth", "alice:secret", "--tls-cert",
                                             pem("server.pem"), "--tls-key", pem("server.key")]) as sim:
            rc, out, _ = run(example, [sim.contact, "--ca", pem("ca.pem"), "--user", "alice",
                                       "--password", "secret"])
            expect(rc == 0, "exit status %d" % rc)
            expect_lines(out, [r"connected over TLS as alice to 1 host\(s\)",
                               r"cluster \S+, release \S+"])

            rc, out, _ = run(example, [sim.contact, "--ca", pem("ca.pem"), "--user", "alice",
                                       "--password", "wrong"])
            expect(rc == 1, "exit status %d with a wrong password" % rc)
            expect_lines(out, [r"connect failed: .*",
                               r"details: .*Provided username alice and/or password are incorrect.*"])

            rc, out, _ = run(example, [sim.contact, "--ca", pem("other-ca.pem"), "--user", "alice",
                                       "--password", "secret"])
            expect(rc == 1, "exit status %d with a CA that did not sign the server's certificate" % rc)
            expect_lines(out, [r"connect failed: .*",
                               r"details: .*" + re.escape(sim.contact) + ".*certificate verify failed.*"])


def check_execution_profiles(sim_bin, example):
    with server(sim_bin, admin=True) as sim:
        rc, out, _ = run(example, [sim.contact])
        expect(rc == 0, "exit status %d" % rc)
        expect_lines(out, [
            r"profile default: consistency LOCAL_QUORUM, timeout 5000 ms, page size 5000",
            r"profile analytics: consistency ONE, timeout 30000 ms, page size 1000",
            r"profile fail_fast: consistency ONE, timeout 50 ms, page size 5000",
            r"default: wrote 20 readings",
            r"analytics: 20 readings, mean 17\.375",
            r"analytics with LOCAL_QUORUM override: 10 readings from north",
            # how fast a loaded machine answers decides which; both are fine here
            r"fail_fast: (latest south reading 19\.50|gave up \(.*\), serving the cached value instead)",
        ])
        if real_cluster():
            skipped("the consistency levels on the wire and the slow cluster",
                    "they need cqlsim's admin endpoint (request logs, latency)")
            return

        # Each statement went out with its profile's consistency (or its own).
        log = sim.admin("log 1", "log 2", "log 3")
        def levels(needle):
            return {m.group(1) for l in log
                    if needle in l and l.startswith(("op=QUERY", "op=EXECUTE"))
                    for m in [re.search(r"\bcl=(\S+)", l)] if m}
        expect(levels("INSERT INTO profiles.readings") == {"LOCAL_QUORUM"},
               "inserts used %s" % levels("INSERT INTO profiles.readings"))
        expect(levels("query=SELECT sensor, ts, value FROM profiles.readings") == {"ONE"},
               "the analytics read used %s" % levels("SELECT sensor, ts, value"))
        expect(levels("WHERE sensor = 'north'") == {"LOCAL_QUORUM"},
               "the overridden read used %s" % levels("WHERE sensor = 'north'"))
        expect(levels("LIMIT 1") == {"ONE"}, "the fail_fast read used %s" % levels("LIMIT 1"))

        # A slow cluster: every answer takes 200 ms, so the 50 ms fail_fast read times out,
        # and its profile's retry policy does not send it again.
        sim.admin("clear-log 1", "clear-log 2", "clear-log 3", "latency * 200ms")
        rc, out, _ = run(example, [sim.contact])
        expect(rc == 0, "exit status %d with slow nodes" % rc)
        expect_lines(out, [r"analytics: 20 readings, mean 17\.375",
                           r"fail_fast: gave up \(.+\), serving the cached value instead"])
        log = sim.admin("log 1", "log 2", "log 3")
        sent = [l for l in log if "WHERE sensor = 'south' LIMIT 1" in l and l.startswith("op=QUERY")]
        expect(len(sent) == 1, "the fail_fast read was sent %d times" % len(sent))


def raw_get(port, path, version="1.1"):
    """GET over a raw socket, reading until the server closes; returns (status line, headers,
    body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(("GET %s HTTP/%s\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                   % (path, version)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return lines[0], headers, body


def raw_chunked_get(port, path):
    """GET over a raw socket; returns (status line, headers, list of chunk payloads)."""
    status, headers, body = raw_get(port, path)
    chunks = []
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        chunks.append(body[:size])
        expect(body[size:size + 2] == b"\r\n", "a chunk ends with CRLF")
        body = body[size + 2:]
    return status, headers, chunks


def check_http_service(sim_bin, example):
    with server(sim_bin) as sim:
        env = dict(os.environ)
        env.pop("CQL_CONTACT_POINTS", None)
        svc = subprocess.Popen([example, sim.contact, "0"], stdout=subprocess.PIPE,
                               stderr=sys.stderr, env=env)
        try:
            deadline = time.monotonic() + TIMEOUT
            port = None
            while port is None:
                line = read_line(svc, deadline)
                print(line, end="")
                m = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)\s*", line)
                port = int(m.group(1)) if m else None
            http_checks(port)
            svc.send_signal(signal.SIGTERM)
            rc = svc.wait(30)
            rest = svc.stdout.read().decode()
            print(rest, end="")
            expect(rc == 0, "exit status %d after SIGTERM" % rc)
            expect("shutting down" in rest, "it says it is shutting down")
        finally:
            if svc.poll() is None:
                svc.kill()
                svc.wait()


FELIDAE = ["Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae"]
LEO = {"genus": "Panthera", "species": "leo", "image_url": "https://example.org/img/lion.jpg",
       "size_cm": 210.5, "sightings": 12, "taxonomy": FELIDAE}


def http_checks(port):
    # One keep-alive connection for a series of requests.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)

    def call(method, path, body=None):
        c.request(method, path, body=body,
                  headers={"Content-Type": "application/json"} if body is not None else {})
        r = c.getresponse()
        data = r.read()
        print("%s %s -> %d %s" % (method, path, r.status, data[:200].decode(errors="replace")))
        expect(r.getheader("Content-Type") == "application/json", "a JSON content type")
        return r, json.loads(data)

    r, doc = call("GET", "/animal/Panthera")
    expect(r.status == 200, "GET /animal/Panthera: %d" % r.status)
    expect([a["species"] for a in doc] == ["leo", "onca", "tigris"], "the three big cats")
    expect(doc[0] == LEO, "the lion, every field: %r" % doc[0])
    expect(doc[1]["size_cm"] == 170.25 and doc[2]["sightings"] == 4, "onca and tigris fields")

    r, doc = call("GET", "/animal/Panthera/leo")
    expect(r.status == 200 and doc == LEO, "GET /animal/Panthera/leo")
    r, doc = call("GET", "/animal/Canis/lupus")
    expect(r.status == 200 and doc["taxonomy"][-1] == "Canidae", "GET /animal/Canis/lupus")

    r, doc = call("GET", "/animal/Panthera/nemo")
    expect(r.status == 404 and "error" in doc, "an unknown animal is 404 with an error")
    r, doc = call("GET", "/animal/Nosuchgenus")
    expect(r.status == 200 and doc == [], "an unknown genus is an empty list")
    r, doc = call("GET", "/nowhere")
    expect(r.status == 404 and "error" in doc, "an unknown path is 404")

    lynx = {"genus": "Lynx", "species": "lynx", "image_url": "https://example.org/img/\"lynx\".jpg",
            "size_cm": 95.5, "sightings": 3, "taxonomy": FELIDAE + ["Lynx \u00e9\u6f22\U0001F431"]}
    r, doc = call("POST", "/animal", json.dumps(lynx))
    expect(r.status == 201, "POST /animal: %d" % r.status)
    expect(r.getheader("Location") == "/animal/Lynx/lynx", "Location header")
    expect(doc == lynx, "the created animal is echoed: %r" % doc)
    r, doc = call("GET", "/animal/Lynx/lynx")
    expect(r.status == 200 and doc == lynx, "GET sees the posted animal")

    # Optional fields may be left out.
    r, doc = call("POST", "/animal", json.dumps({"genus": "Lynx", "species": "pardinus"}))
    expect(r.status == 201 and doc["image_url"] is None and doc["sightings"] is None
           and doc["taxonomy"] == [],
           "a minimal animal")
    r, doc = call("GET", "/animal/Lynx")
    expect(r.status == 200 and [a["species"] for a in doc] == ["lynx", "pardinus"], "both lynxes")

    for bad, why in [("{\"genus\": \"Lynx\", \"species\": ", "malformed JSON"),
                     ("[1, 2]", "not an object"),
                     (json.dumps({"genus": "Lynx"}), "no species"),
                     (json.dumps({"genus": "Lynx", "species": "x", "sightings": "many"}),
                      "sightings not a number"),
                     (json.dumps({"genus": "Lynx", "species": "x", "taxonomy": [1]}),
                      "taxonomy not strings")]:
        r, doc = call("POST", "/animal", bad)
        expect(r.status == 400 and isinstance(doc.get("error"), str), "400 for " + why)
    r, doc = call("GET", "/animal/Lynx/x")
    expect(r.status == 404, "nothing was written by the bad requests")
    c.close()

    # A body above the limit is refused from its Content-Length, before it is read (the test
    # sends only the headers, so the server closing early cannot reset the connection).
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"POST /animal HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                  b"\r\nContent-Length: 100000\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    print("POST /animal (100000 bytes announced) -> %s" % head.split(b"\r\n")[0].decode())
    expect(head.startswith(b"HTTP/1.1 413") and "error" in json.loads(body),
           "413 for a body above 64 KiB")

    # The plants of a genus arrive as a chunked JSON array, one chunk per page of 25 rows.
    status, headers, chunks = raw_chunked_get(port, "/plant/Quercus")
    print("GET /plant/Quercus -> %s, %d chunks" % (status, len(chunks)))
    expect(status.startswith("HTTP/1.1 200"), status)
    expect(headers.get("transfer-encoding") == "chunked", "chunked transfer encoding")
    expect(len(chunks) >= 5, "one chunk per page: %d chunks" % len(chunks))
    plants = json.loads(b"".join(chunks))
    expect(len(plants) == 120, "120 oaks, got %d" % len(plants))
    expect(all(p["genus"] == "Quercus" for p in plants), "all oaks")
    species = [p["species"] for p in plants]
    expect(species == sorted(species) and len(set(species)) == 120, "each oak once, in order")
    expect({"genus": "Quercus", "species": "robur", "sightings": 1} in plants, "Quercus robur")
    for chunk in chunks[:-1]:  # no chunk holds the whole array
        expect(len(chunk) < len(b"".join(chunks)) / 2, "pages are sent separately")

    status, headers, chunks = raw_chunked_get(port, "/plant/Rosa")
    expect([p["species"] for p in json.loads(b"".join(chunks))] == ["canina", "gallica", "rugosa"],
           "three roses")
    status, headers, chunks = raw_chunked_get(port, "/plant/Nosuchgenus")
    expect(json.loads(b"".join(chunks)) == [], "no plants: []")

    # HTTP/1.0 has no chunked encoding: the body ends when the connection closes.
    status, headers, body = raw_get(port, "/plant/Quercus", version="1.0")
    expect(status.startswith("HTTP/1.0 200") and "transfer-encoding" not in headers,
           "HTTP/1.0: %s %r" % (status, headers))
    expect(len(json.loads(body)) == 120, "HTTP/1.0: the whole array")

    # Many clients at once: one thread serves them all, interleaving their pages.
    results = []
    def client():
        _, _, chunks = raw_chunked_get(port, "/plant/Quercus")
        results.append(len(json.loads(b"".join(chunks))))
    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    expect(results == [120] * 8, "8 concurrent streams: %r" % results)


CHECKS = {
    "quickstart_coroutines": check_quickstart,
    "quickstart_callbacks": check_quickstart,
    "quickstart_futures": check_quickstart,
    "paging_stream": check_paging_stream,
    "prepared_and_batch": check_prepared_and_batch,
    "object_mapping": check_object_mapping,
    "tls_and_auth": check_tls_and_auth,
    "execution_profiles": check_execution_profiles,
    "http_service": check_http_service,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cqlsim", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--check", required=True, choices=sorted(CHECKS))
    a = ap.parse_args()
    try:
        CHECKS[a.check](a.cqlsim, a.example)
    except (Failure, subprocess.TimeoutExpired, subprocess.CalledProcessError) as e:
        print("FAILED: %s" % e)
        return 1
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
