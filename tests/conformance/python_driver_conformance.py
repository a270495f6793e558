#!/usr/bin/python3
"""The DataStax Python driver against a 3-node cqlsim, with protocol v4 and v5.

Usage: python_driver_conformance.py PATH/TO/cqlsim

Starts cqlsim on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (one port, chosen free on all
three at run time) with password authentication, then for v4, v5, v4 + LZ4 and v5 + LZ4:
discovers the nodes, creates a keyspace and tables, inserts and reads with prepared
statements, pages through 10,000 rows, runs a batch and a lightweight transaction, and
checks the errors for a bad query, an unknown table and a wrong password.
Then starts a second cqlsim with --single-address (3 nodes on 127.0.0.1, consecutive
ports) and checks that the driver (which reads system.peers_v2, with v4 and v5) discovers
and uses all three nodes.

With CQL_CONTACT_POINTS set (CQL_PORT, CQL_LOCAL_DC; CQL_USER/CQL_PASSWORD when the server
asks for a login) the same scenario runs against that cluster instead of cqlsim: this checks
the test's own expectations against the reference server. The nodes expected are those of
its system.local and system.peers; the wrong-password check needs a login, the
single-address scenario needs cqlsim (both are skipped, saying so).
Exit status 0 on success.
"""

import logging
import os
import socket
import subprocess
import sys
import time
import uuid

from cassandra import AuthenticationFailed, InvalidRequest
from cassandra.protocol import SyntaxException
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.query import BatchStatement, SimpleStatement

ADDRESSES = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
USER, PASSWORD = "conformance", "s3cret"


class Target:
    """Where the scenario runs: the cqlsim started here, or the real cluster of the
    environment. `addresses` is None until discovered (real cluster)."""

    def __init__(self, contact, port, dc, user, password, addresses):
        self.contact, self.port, self.dc = contact, port, dc
        self.user, self.password, self.addresses = user, password, addresses


def real_target():
    contact = os.environ["CQL_CONTACT_POINTS"].split(",")[0].strip()
    port = int(os.environ.get("CQL_PORT", "9042"))
    if ":" in contact:
        contact, port = contact.rsplit(":", 1)
        port = int(port)
    return Target(contact, port, os.environ.get("CQL_LOCAL_DC", "datacenter1"),
                  os.environ.get("CQL_USER"), os.environ.get("CQL_PASSWORD"), None)


def free_port():
    """A port that is free on every address (loopback only)."""
    for _ in range(50):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        ok = True
        for a in ADDRESSES:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((a, port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return port
    raise RuntimeError("no free port on 127.0.0.1-3")


def free_port_range(count):
    """`count` consecutive ports free on 127.0.0.1."""
    for _ in range(50):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
        probe.close()
        if base + count > 65535:
            continue
        ok = True
        for p in range(base, base + count):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return base
    raise RuntimeError("no %d consecutive free ports on 127.0.0.1" % count)


def start_cqlsim(binary, port, single_address=False):
    args = [binary, "--nodes", "3", "--base-address", ADDRESSES[0], "--port", str(port),
            "--vnodes", "8", "--auth", "%s:%s" % (USER, PASSWORD)]
    if single_address:
        args.append("--single-address")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 20
    lines = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.strip() == "ready":
            return proc
    proc.kill()
    raise RuntimeError("cqlsim did not start:\n" + "\n".join(lines))


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("  ok:", what)


def expect_error(exc_type, fn, what):
    try:
        fn()
    except exc_type as e:
        print("  ok: %s (%s: %s)" % (what, type(e).__name__, str(e)[:100]))
        return e
    raise AssertionError("%s: no %s raised" % (what, exc_type.__name__))


def make_cluster(target, version, password=None, compression=False):
    auth = None
    if target.user:
        auth = PlainTextAuthProvider(target.user, password or target.password)
    return Cluster([target.contact], port=target.port, protocol_version=version,
                   compression=compression, auth_provider=auth,
                   load_balancing_policy=TokenAwarePolicy(
                       DCAwareRoundRobinPolicy(local_dc=target.dc)),
                   connect_timeout=5, control_connection_timeout=5)


def server_addresses(session):
    """The nodes the server itself lists (a real cluster's expected hosts), both tables read
    from one node."""
    local = session.execute("SELECT rpc_address FROM system.local")
    node = local.response_future.coordinator_host  # its pool is open: it just answered
    peers = session.execute("SELECT rpc_address FROM system.peers", host=node)
    return sorted(str(r.rpc_address) for r in list(local) + list(peers))


def scenario(target, version, compression=False):
    print("protocol v%d%s" % (version, " with " + compression if compression else ""))
    cluster = make_cluster(target, version, compression=compression)
    session = cluster.connect()
    try:
        check(cluster.protocol_version == version, "connected with v%d" % version)
        expected = target.addresses or server_addresses(session)
        hosts = sorted(h.address for h in cluster.metadata.all_hosts())
        check(hosts == expected, "discovered all nodes: %s" % hosts)
        deadline = time.time() + 10
        while time.time() < deadline and not all(
                h.is_up for h in cluster.metadata.all_hosts()):
            time.sleep(0.1)
        check(all(h.is_up for h in cluster.metadata.all_hosts()), "all nodes up")
        deadline = time.time() + 10  # the driver opens the other pools in the background
        while time.time() < deadline and len(session.get_pools()) < len(expected):
            time.sleep(0.1)
        pools = sorted(p.host.address for p in session.get_pools())
        check(pools == expected, "a pool to every node: %s" % pools)

        ks = "conf_v%d%s" % (version, "_" + compression if compression else "")
        session.execute("DROP KEYSPACE IF EXISTS %s" % ks)  # a real cluster keeps old runs'
        session.execute("CREATE KEYSPACE %s WITH replication = "
                        "{'class': 'NetworkTopologyStrategy', '%s': %d}"
                        % (ks, target.dc, min(3, len(expected))))
        session.execute("CREATE TABLE %s.users (id uuid PRIMARY KEY, name text, age int, "
                        "tags set<text>)" % ks)
        session.execute("CREATE TABLE %s.wide (p int, c int, v text, PRIMARY KEY (p, c))" % ks)
        check(ks in cluster.metadata.keyspaces, "schema metadata sees the keyspace")
        check("users" in cluster.metadata.keyspaces[ks].tables, "schema metadata sees the table")
        session.set_keyspace(ks)

        # Prepared insert and read back.
        ins = session.prepare("INSERT INTO users (id, name, age, tags) VALUES (?, ?, ?, ?)")
        sel = session.prepare("SELECT name, age, tags FROM users WHERE id = ?")
        ids = [uuid.uuid4() for _ in range(20)]
        for i, u in enumerate(ids):
            session.execute(ins, (u, "user%d" % i, 20 + i, {"a", "t%d" % i}))
        row = session.execute(sel, (ids[7],)).one()
        check(row.name == "user7" and row.age == 27 and row.tags == {"a", "t7"},
              "prepared insert then prepared select: %r" % (row,))
        check(session.execute(sel, (uuid.uuid4(),)).one() is None, "missing row gives no row")

        # 10,000 rows, paged.
        ins_wide = session.prepare("INSERT INTO wide (p, c, v) VALUES (?, ?, ?)")
        results = execute_concurrent_with_args(
            session, ins_wide, [(1, i, "v%d" % i) for i in range(10000)], concurrency=100)
        check(all(ok for ok, _ in results), "10,000 concurrent prepared inserts")
        stmt = SimpleStatement("SELECT c, v FROM wide WHERE p = 1", fetch_size=1000)
        rs = session.execute(stmt)
        check(rs.has_more_pages, "first page says more pages follow")
        seen = [r.c for r in rs]
        check(seen == list(range(10000)), "paged through 10,000 rows in clustering order")
        sel_page = session.prepare("SELECT c FROM wide WHERE p = ?")
        sel_page.fetch_size = 333
        pages = 0
        rs = session.execute(sel_page, (1,))
        count = 0
        while True:
            count += len(rs.current_rows)
            pages += 1
            if not rs.has_more_pages:
                break
            rs.fetch_next_page()
        check(count == 10000 and pages == 31, "prepared paging: %d rows in %d pages" %
              (count, pages))
        check(session.execute("SELECT COUNT(*) FROM wide WHERE p = 1").one()[0] == 10000,
              "COUNT(*) is 10,000")

        # Batch.
        batch = BatchStatement()
        for i in range(5):
            batch.add(ins_wide, (2, i, "b%d" % i))
        batch.add(SimpleStatement("DELETE FROM wide WHERE p = 2 AND c = 0"))
        session.execute(batch)
        rows = list(session.execute("SELECT c, v FROM wide WHERE p = 2"))
        check([(r.c, r.v) for r in rows] == [(i, "b%d" % i) for i in range(1, 5)],
              "logged batch of prepared and simple statements")

        # Lightweight transaction.
        lwt = session.prepare("INSERT INTO wide (p, c, v) VALUES (?, ?, ?) IF NOT EXISTS")
        r1 = session.execute(lwt, (3, 1, "first"))
        check(r1.was_applied, "LWT applied on a new row")
        r2 = session.execute(lwt, (3, 1, "second"))
        check(not r2.was_applied and r2.one().v == "first",
              "LWT not applied on an existing row, returns it")
        r3 = session.execute("UPDATE wide SET v = 'third' WHERE p = 3 AND c = 1 IF v = 'first'")
        check(r3.was_applied, "conditional update applied")
        check(session.execute("SELECT v FROM wide WHERE p = 3 AND c = 1").one().v == "third",
              "conditional update visible")

        # Errors.
        expect_error(SyntaxException, lambda: session.execute("SELEC * FROM wide"),
                     "syntax error for a bad query")
        expect_error(InvalidRequest, lambda: session.execute("SELECT * FROM no_such_table"),
                     "invalid request for an unknown table")
        expect_error(InvalidRequest,
                     lambda: session.execute("INSERT INTO wide (p, c, v) VALUES ('x', 1, 'y')"),
                     "invalid request for a value of the wrong type")
        session.execute("DROP KEYSPACE %s" % ks)
    finally:
        cluster.shutdown()

    if not target.user:
        print("  skipped: the wrong password (the server's login is unknown: CQL_USER unset)")
        return
    bad = make_cluster(target, version, password="wrong")
    quiet = logging.getLogger("cassandra")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # the driver logs the expected failure loudly
    try:
        e = expect_error(NoHostAvailable, bad.connect, "wrong password refused")
    finally:
        quiet.setLevel(level)
    errors = list(e.errors.values())
    check(any(isinstance(x, AuthenticationFailed) and "and/or password are incorrect" in str(x)
              for x in errors), "the cause is AuthenticationFailed with Cassandra's message")
    bad.shutdown()


def single_address_scenario(port, version):
    """3 nodes on 127.0.0.1:port..port+2: told apart only by system.peers_v2's ports."""
    print("protocol v%d, single address" % version)
    cluster = make_cluster(Target(ADDRESSES[0], port, "dc1", USER, PASSWORD, None), version)
    session = cluster.connect()
    try:
        check(cluster.protocol_version == version, "connected with v%d" % version)
        want = [("127.0.0.1", port + k) for k in range(3)]
        eps = sorted((h.endpoint.address, h.endpoint.port)
                     for h in cluster.metadata.all_hosts())
        check(eps == want, "discovered 3 nodes on one address: %s" % eps)
        deadline = time.time() + 10
        while time.time() < deadline and len(session.get_pools()) < 3:
            time.sleep(0.1)
        pools = sorted((p.host.endpoint.address, p.host.endpoint.port)
                       for p in session.get_pools())
        check(pools == want, "a pool to every node: %s" % pools)
        ks = "single_v%d" % version
        session.execute("CREATE KEYSPACE %s WITH replication = "
                        "{'class': 'NetworkTopologyStrategy', 'dc1': 3}" % ks)
        session.execute("CREATE TABLE %s.t (k int PRIMARY KEY, v text)" % ks)
        ins = session.prepare("INSERT INTO %s.t (k, v) VALUES (?, ?)" % ks)
        for k in range(30):
            session.execute(ins, (k, "v%d" % k))
        coordinators = set()
        sel = session.prepare("SELECT v FROM %s.t WHERE k = ?" % ks)
        for k in range(30):
            rs = session.execute(sel, (k,))
            check_row = rs.one()
            if check_row is None or check_row.v != "v%d" % k:
                raise AssertionError("row %d read back as %r" % (k, check_row))
            coordinators.add(rs.response_future.coordinator_host.endpoint.port)
        check(len(coordinators) == 3, "requests spread over the 3 nodes: %s" %
              sorted(coordinators))
        session.execute("DROP KEYSPACE %s" % ks)
    finally:
        cluster.shutdown()


# LZ4: v4 compresses frame bodies (from the READY on), v5 compresses segments (python3-lz4).
VARIANTS = [(4, False), (5, False), (4, "lz4"), (5, "lz4")]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    logging.basicConfig(level=logging.WARNING)
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    if os.environ.get("CQL_CONTACT_POINTS"):
        target = real_target()
        for version, compression in VARIANTS:
            scenario(target, version, compression)
        print("skipped: the single-address scenario (needs cqlsim --single-address)")
        print("all conformance checks passed")
        return 0
    port = free_port()
    proc = start_cqlsim(sys.argv[1], port)
    try:
        target = Target(ADDRESSES[0], port, "dc1", USER, PASSWORD, ADDRESSES)
        for version, compression in VARIANTS:
            scenario(target, version, compression)
    finally:
        proc.terminate()
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    if rc != 0:
        print("cqlsim exited with status %d" % rc)
        return 1
    base = free_port_range(3)
    proc = start_cqlsim(sys.argv[1], base, single_address=True)
    try:
        for version in (4, 5):
            single_address_scenario(base, version)
    finally:
        proc.terminate()
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    if rc != 0:
        print("cqlsim (single address) exited with status %d" % rc)
        return 1
    print("all conformance checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
