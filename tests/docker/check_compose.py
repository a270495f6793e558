#!/usr/bin/env python3
"""Checks docker/cassandra.yml and docker/scylla.yml without a Docker engine.

1. Schema: the Compose v2 plugin's `config -q` when `docker compose` works, else the schema
   validation of Debian's docker-compose (installed by scripts/setup.sh), run in-process.
2. Structure (PyYAML, merge keys resolved): 3 services of a pinned image (no "latest"); a
   health check on each (CMD/CMD-SHELL test running cqlsh, interval, timeout, retries,
   start_period); only node 1 publishes a port, and only 127.0.0.1:9042 -> 9042; node 1 is
   the seed; node k waits for node k-1 with condition service_healthy; datacenter dc1
   (GossipingPropertyFileSnitch); a memory limit per node above the heap / Seastar memory
   and at most 4 GiB; every network used is declared.
3. Self-test: mutated copies (a port on node 2, no health check, a "latest" tag, a wrong
   dependency condition, a wrong type the schema refuses, ...) must each be rejected, so the
   checks above are known to bite.

Usage: check_compose.py DOCKER_DIR
Exit status 0 when everything holds; prints one line per problem otherwise.
"""

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

FLAVOURS = {
    "cassandra": {"image": re.compile(r"^cassandra:5\.0(\.\d+)?$")},
    "scylla": {"image": re.compile(r"^scylladb/scylla:(\d+\.\d+(\.\d+)?)$")},
}

UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(v):
    """'1536m', '2g', '1G', 1073741824 -> bytes (None when unparsable)."""
    if isinstance(v, int):
        return v
    m = re.fullmatch(r"(\d+)([kmgKMG])?[bB]?", str(v).strip())
    if not m:
        return None
    return int(m.group(1)) * UNITS.get((m.group(2) or "").lower(), 1)


def parse_duration(v):
    """'10s', '1m30s', '500ms' -> seconds (None when unparsable)."""
    m = re.fullmatch(r"((\d+)h)?((\d+)m(?!s))?((\d+)s)?((\d+)ms)?", str(v))
    if not m or not str(v):
        return None
    h, mi, s, ms = (int(g) if g else 0 for g in m.group(2, 4, 6, 8))
    return h * 3600 + mi * 60 + s + ms / 1000


def command_list(cmd):
    if cmd is None:
        return []
    if isinstance(cmd, str):
        return cmd.split()
    return [str(c) for c in cmd]


def option(cmd, name):
    """The value of `--name V` or `--name=V` in a command list."""
    for i, c in enumerate(cmd):
        if c == name and i + 1 < len(cmd):
            return cmd[i + 1]
        if c.startswith(name + "="):
            return c.split("=", 1)[1]
    return None


def check_structure(flavour, doc, docker_dir):
    errors = []
    err = errors.append
    if not isinstance(doc, dict):
        return ["top level is not a mapping"]
    services = doc.get("services")
    if not isinstance(services, dict):
        return ["no services mapping"]
    names = [f"{flavour}{i}" for i in (1, 2, 3)]
    if sorted(services) != names:
        err(f"services are {sorted(services)}, expected {names}")
        return errors
    declared = set((doc.get("networks") or {}).keys())

    for idx, name in enumerate(names):
        s = services[name]
        image = str(s.get("image", ""))
        if not FLAVOURS[flavour]["image"].match(image):
            err(f"{name}: image '{image}' is not a pinned {flavour} image")

        hc = s.get("healthcheck")
        if not isinstance(hc, dict) or hc.get("disable"):
            err(f"{name}: no health check")
        else:
            test = hc.get("test")
            if not (isinstance(test, list) and len(test) >= 2 and test[0] in ("CMD", "CMD-SHELL")):
                err(f"{name}: healthcheck.test must be [CMD|CMD-SHELL, ...]")
            elif "cqlsh" not in " ".join(str(t) for t in test[1:]):
                err(f"{name}: healthcheck.test does not query CQL with cqlsh")
            for key in ("interval", "timeout", "start_period"):
                d = parse_duration(hc.get(key, ""))
                if d is None or d <= 0:
                    err(f"{name}: healthcheck.{key} missing or not a duration")
            retries = hc.get("retries")
            if not isinstance(retries, int) or retries < 1:
                err(f"{name}: healthcheck.retries must be a positive integer")
            interval = parse_duration(hc.get("interval", "")) or 0
            if isinstance(retries, int) and interval * retries < 120:
                err(f"{name}: health check gives up after {interval * retries:.0f} s (< 120 s)")

        ports = s.get("ports") or []
        if idx == 0:
            if [str(p) for p in ports] != ["127.0.0.1:9042:9042"]:
                err(f"{name}: ports must be exactly ['127.0.0.1:9042:9042'], got {ports}")
        elif ports:
            err(f"{name}: publishes ports {ports} (only node 1 may, on loopback)")
        if s.get("network_mode") == "host":
            err(f"{name}: network_mode host publishes every port")

        deps = s.get("depends_on")
        if idx == 0:
            if deps:
                err(f"{name}: the first node must not depend on another")
        else:
            prev = names[idx - 1]
            if not isinstance(deps, dict) or set(deps) != {prev}:
                err(f"{name}: must depend on {prev} only (long syntax), got {deps}")
            elif (deps[prev] or {}).get("condition") != "service_healthy":
                err(f"{name}: depends_on {prev} must have condition service_healthy")

        nets = s.get("networks") or []
        for n in nets if isinstance(nets, list) else list(nets):
            if n not in declared:
                err(f"{name}: network '{n}' is not declared")

        limit = parse_size(s.get("mem_limit", ""))
        if limit is None:
            limit = parse_size(
                (((s.get("deploy") or {}).get("resources") or {}).get("limits") or {}).get(
                    "memory", ""))
        if limit is None:
            err(f"{name}: no memory limit (mem_limit)")
        elif limit > 4 * UNITS["g"]:
            err(f"{name}: memory limit {limit >> 20} MiB is above 4 GiB")

        if flavour == "cassandra":
            env = s.get("environment") or {}
            if isinstance(env, list):
                env = dict(e.split("=", 1) for e in env)
            if env.get("CASSANDRA_SEEDS") != names[0]:
                err(f"{name}: CASSANDRA_SEEDS must be {names[0]}")
            if env.get("CASSANDRA_DC") != "dc1":
                err(f"{name}: CASSANDRA_DC must be dc1")
            if env.get("CASSANDRA_ENDPOINT_SNITCH") != "GossipingPropertyFileSnitch":
                err(f"{name}: CASSANDRA_ENDPOINT_SNITCH must be GossipingPropertyFileSnitch")
            heap = parse_size(env.get("MAX_HEAP_SIZE", ""))
            if heap is None or "HEAP_NEWSIZE" not in env:
                err(f"{name}: MAX_HEAP_SIZE and HEAP_NEWSIZE must both be set")
            elif limit is not None and heap * 3 // 2 > limit:
                err(f"{name}: memory limit leaves too little above the {heap >> 20} MiB heap")
        else:
            cmd = command_list(s.get("command"))
            if option(cmd, "--seeds") != names[0]:
                err(f"{name}: --seeds must be {names[0]}")
            if option(cmd, "--endpoint-snitch") != "GossipingPropertyFileSnitch":
                err(f"{name}: --endpoint-snitch must be GossipingPropertyFileSnitch")
            mem = parse_size(option(cmd, "--memory") or "")
            if mem is None:
                err(f"{name}: --memory must be set (Seastar takes all it sees otherwise)")
            elif limit is not None and mem >= limit:
                err(f"{name}: memory limit must exceed --memory")
            mounted = None
            for v in s.get("volumes") or []:
                parts = str(v).split(":")
                if len(parts) >= 2 and parts[1] == "/etc/scylla/cassandra-rackdc.properties":
                    mounted = os.path.join(docker_dir, parts[0])
            if not mounted:
                err(f"{name}: cassandra-rackdc.properties is not mounted")
            elif not os.path.isfile(mounted):
                err(f"{name}: {mounted} does not exist")
            else:
                with open(mounted, encoding="utf-8") as f:
                    props = dict(
                        line.strip().split("=", 1) for line in f
                        if "=" in line and not line.lstrip().startswith("#"))
                if props.get("dc", "").strip() != "dc1":
                    err(f"{name}: {os.path.basename(mounted)} must say dc=dc1")
    return errors


class SchemaChecker:
    """Validates a compose document against the compose schema, without a Docker engine.

    With the Compose v2 plugin (`docker compose version` works): its `config -q` on the
    document. Otherwise Debian's docker-compose (installed by scripts/setup.sh), in-process:
    the schema validation its `config` command runs (compose.config.validation, with its
    format checkers for ports), once per document without starting a process each time."""

    def __init__(self):
        self.cli = None
        self.validate = None
        docker = shutil.which("docker")
        if docker and subprocess.run([docker, "compose", "version"],
                                     capture_output=True).returncode == 0:
            self.cli = [docker, "compose"]
            return
        try:
            from compose.config import validation
            from compose.config.config import ConfigFile
            from compose.config.errors import ConfigurationError
        except ImportError:
            return

        def validate(doc):
            cf = ConfigFile("compose.yml", doc)
            try:
                validation.validate_against_config_schema(cf, cf.version)
            except ConfigurationError as e:
                return [f"schema: {' '.join(e.msg.splitlines()[1:3])}"]
            return []

        self.validate = validate

    def available(self):
        return self.cli is not None or self.validate is not None

    def errors(self, doc):
        if self.validate is not None:
            return self.validate(copy.deepcopy(doc))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "compose.yml")
            with open(path, "w", encoding="utf-8") as f:
                yaml.safe_dump(doc, f)
            r = subprocess.run(self.cli + ["-f", path, "config", "-q"], capture_output=True,
                               text=True)
            if r.returncode != 0:
                return [f"compose config -q: {(r.stderr or r.stdout).strip().splitlines()[:3]}"]
        return []


def mutations(flavour):
    """(description, function changing a parsed document) that the checks must reject."""
    n1, n2, n3 = (f"{flavour}{i}" for i in (1, 2, 3))

    def set_path(*keys, value):
        def f(doc):
            d = doc
            for k in keys[:-1]:
                d = d[k]
            d[keys[-1]] = value
        return f

    def delete(*keys):
        def f(doc):
            d = doc
            for k in keys[:-1]:
                d = d[k]
            d.pop(keys[-1], None)
        return f

    image = "cassandra:latest" if flavour == "cassandra" else "scylladb/scylla:latest"
    return [
        ("port on node 2", set_path("services", n2, "ports", value=["127.0.0.1:9043:9042"])),
        ("port on all interfaces", set_path("services", n1, "ports", value=["9042:9042"])),
        ("no health check", delete("services", n3, "healthcheck")),
        ("health check without retries", delete("services", n1, "healthcheck", "retries")),
        ("latest tag", set_path("services", n1, "image", value=image)),
        ("started instead of healthy",
         set_path("services", n3, "depends_on", value={n2: {"condition": "service_started"}})),
        ("no memory limit", delete("services", n2, "mem_limit")),
        ("two services", delete("services", n3)),
        ("undeclared network", set_path("services", n1, "networks", value=["other"])),
    ]


def self_test(flavour, doc, docker_dir, schema):
    problems = []
    for what, mutate in mutations(flavour):
        bad = copy.deepcopy(doc)
        mutate(bad)
        if not check_structure(flavour, bad, docker_dir):
            problems.append(f"self-test: a file with '{what}' was not rejected")
    if schema.available():
        # The schema check must refuse a wrong type and a malformed port.
        for key, value in (("healthcheck", {"test": ["CMD", "true"], "retries": "many"}),
                           ("ports", ["127.0.0.1:abc:9042"])):
            bad = copy.deepcopy(doc)
            bad["services"][f"{flavour}1"][key] = value
            if not schema.errors(bad):
                problems.append(f"self-test: the compose schema accepted a bad {key}")
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    docker_dir = sys.argv[1]
    schema = SchemaChecker()
    failures = []
    if not schema.available():
        failures.append("no compose schema: install Debian's docker-compose (scripts/setup.sh)")
    for flavour in FLAVOURS:
        path = os.path.join(docker_dir, f"{flavour}.yml")
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        found = check_structure(flavour, doc, docker_dir)
        found += schema.errors(doc)
        found += self_test(flavour, doc, docker_dir, schema)
        for e in found:
            failures.append(f"{flavour}.yml: {e}")
        print(f"{flavour}.yml: {'ok' if not found else f'{len(found)} problem(s)'}")
    if not os.access(os.path.join(docker_dir, "run-e2e.sh"), os.R_OK):
        failures.append("run-e2e.sh is missing")
    else:
        r = subprocess.run(["bash", "-n", os.path.join(docker_dir, "run-e2e.sh")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"run-e2e.sh: bash -n: {r.stderr.strip()}")
    for f in failures:
        print(f)
    print("check_compose: " + ("every check holds" if not failures else f"{len(failures)} problem(s)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
