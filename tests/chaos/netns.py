"""Network cuts between processes and the services, in network namespaces the test makes itself.

A NetLab makes a bridge on the host with an address of its own (10.X.Y.1/24, a /24 no other address or
route of the machine uses) and, per process to be cut, a network namespace joined to the bridge by a veth
pair. The services are started on the bridge address (BORA_SERVICES_HOST=lab.host for scripts/services.sh,
scripts/kafka_cluster.sh, scripts/redis_cluster.sh): processes on the host reach it as a local address,
processes in a namespace through their veth.

    lab = NetLab()                      # needs root; NetLab.cleanup_stale() removes a crashed run's leftovers
    ns = lab.add("orch0")               # a namespace, its veth, lo up, an address, default route via lab.host
    subprocess.Popen(lab.prefix(ns) + [bora, "orchestrator", ...])   # runs inside it (ip netns exec NS ...)
    lab.cut(ns, [redis_port, kafka_port])   # drops every packet between ns and those ports of lab.host
    lab.heal(ns)                        # lets them through again
    lab.close()                         # kills what still runs in the namespaces, removes all it made

A cut drops packets silently in both directions (no reset, no ICMP): connections hang as in a real
partition until their own timeouts. The kernel here has no tc `drop` action (act_gact) and no iptables or
nft binary, so a cut classifies the packets with u32 filters into an HTB class whose only queue is a pfifo
of limit 0, which drops everything it is given; the rest goes through the HTB's direct queue. The filters sit
on the egress of both ends of the veth: host side (lab.host:PORT -> namespace) and namespace side
(namespace -> lab.host:PORT).

Names derive from the owning process id (bnl<pid hex>: bridge ...b, veths ...h<i>/...p<i>, namespaces
...-<name>), so a run's leftovers are recognised and removed by cleanup_stale() once that process is gone.
One NetLab at a time per process.
"""

from __future__ import annotations

import ipaddress
import os
import random
import re
import signal
import subprocess
from typing import Dict, Iterable, List, Optional

PREFIX = "bnl"
_NAME = re.compile(r"^" + PREFIX + r"([0-9a-f]+)(?:b|h\d+|p\d+|-.*)$")


def _ip(*args: str, check: bool = True) -> str:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def _tc(*args: str, ns: Optional[str] = None, check: bool = True) -> None:
    argv = ["tc"] + (["-n", ns] if ns else []) + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_namespace(ns: str) -> None:
    """SIGKILLs every process in `ns` (a namespace lives on while a process holds it) and deletes it."""
    for pid in _ip("netns", "pids", ns, check=False).split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    _ip("netns", "del", ns, check=False)


def _links() -> List[str]:
    return [line.split(":")[1].strip().split("@")[0]
            for line in _ip("-o", "link", "show").splitlines() if ":" in line]


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.X.Y.0/24 that overlaps no address or route of the host (other labs' bridges included)."""
    used = []
    for line in _ip("-4", "-o", "addr", "show").splitlines():
        used.append(ipaddress.ip_interface(line.split()[3]).network)
    for line in _ip("-4", "route", "show", "table", "all").splitlines():
        word = line.split()[0] if line.split() else ""
        if word in ("default", "broadcast", "local", "unreachable", "blackhole", "prohibit"):
            word = line.split()[1] if word != "default" and len(line.split()) > 1 else ""
        try:
            used.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            pass
    rng = random.Random()
    for _ in range(1000):
        net = ipaddress.ip_network(f"10.{rng.randint(150, 249)}.{rng.randint(0, 255)}.0/24")
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net
    raise RuntimeError("no free 10.X.Y.0/24 for the bridge")


class NetLab:
    """A bridge and namespaces on it; cut() and heal() drop or pass traffic to service ports."""

    def __init__(self) -> None:
        self.tag = f"{PREFIX}{os.getpid():x}"
        self.bridge = self.tag + "b"
        if self.bridge in _links():
            raise RuntimeError(f"{self.bridge} exists: one NetLab per process (close the other first)")
        net = _free_subnet()
        hosts = net.hosts()
        self.host = str(next(hosts))  # the bridge's address: start the services on it
        self._free = [str(h) for h in hosts]
        self._prefixlen = net.prefixlen
        self.namespaces: Dict[str, Dict[str, str]] = {}  # ns -> {host_veth, ns_veth, addr}
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{self.host}/{self._prefixlen}", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
        except RuntimeError:
            self.close()
            raise

    def env(self) -> Dict[str, str]:
        """The environment the service scripts need to start on the bridge address."""
        return {"BORA_SERVICES_HOST": self.host}

    def add(self, name: str) -> str:
        """Makes a namespace joined to the bridge; returns its name (give it to prefix, cut, heal)."""
        i = len(self.namespaces)
        ns = f"{self.tag}-{name}"
        hv, pv = f"{self.tag}h{i}", f"{self.tag}p{i}"
        addr = self._free.pop(0)
        self.namespaces[ns] = {"host_veth": hv, "ns_veth": pv, "addr": addr}
        _ip("netns", "add", ns)
        _ip("link", "add", hv, "type", "veth", "peer", "name", pv)
        _ip("link", "set", pv, "netns", ns)
        _ip("link", "set", hv, "master", self.bridge)
        _ip("link", "set", hv, "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "addr", "add", f"{addr}/{self._prefixlen}", "dev", pv)
        _ip("-n", ns, "link", "set", pv, "up")
        _ip("-n", ns, "route", "add", "default", "via", self.host)
        # Both egresses: an HTB whose class 1:1 drops all it gets (pfifo limit 0); unfiltered packets take
        # the HTB's direct queue. cut() adds filters into 1:1, heal() removes them.
        for dev, where in ((hv, None), (pv, ns)):
            _tc("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "r2q", "100000", ns=where)
            _tc("class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", "10gbit",
                ns=where)
            _tc("qdisc", "add", "dev", dev, "parent", "1:1", "handle", "10:", "pfifo", "limit", "0",
                ns=where)
        return ns

    def addr(self, ns: str) -> str:
        """The address of `ns` on the bridge (the host reaches a port a process in `ns` listens on there)."""
        return self.namespaces[ns]["addr"]

    def prefix(self, ns: str) -> List[str]:
        """The argv prefix that runs a command inside `ns` (ip execs it: the pid is the command's)."""
        return ["ip", "netns", "exec", ns]

    def cut(self, ns: str, ports: Optional[Iterable[int]] = None) -> None:
        """Drops all traffic between `ns` and those TCP ports of self.host (None: every port), both ways."""
        v = self.namespaces[ns]
        for port in list(ports) if ports is not None else [None]:
            down = ["match", "ip", "src", f"{self.host}/32"]  # host -> namespace
            up = ["match", "ip", "dst", f"{self.host}/32"]  # namespace -> host
            if port is not None:
                down += ["match", "ip", "sport", str(port), "0xffff"]
                up += ["match", "ip", "dport", str(port), "0xffff"]
            _tc("filter", "add", "dev", v["host_veth"], "parent", "1:", "protocol", "ip", "prio", "1",
                "u32", *down, "flowid", "1:1")
            _tc("filter", "add", "dev", v["ns_veth"], "parent", "1:", "protocol", "ip", "prio", "1",
                "u32", *up, "flowid", "1:1", ns=ns)

    def heal(self, ns: str) -> None:
        """Removes every cut of `ns`."""
        v = self.namespaces[ns]
        _tc("filter", "del", "dev", v["host_veth"], "parent", "1:", check=False)
        _tc("filter", "del", "dev", v["ns_veth"], "parent", "1:", ns=ns, check=False)

    def close(self) -> None:
        """Kills what still runs in the namespaces and removes the namespaces, veths and the bridge."""
        for ns in list(self.namespaces):
            _kill_namespace(ns)
            _ip("link", "del", self.namespaces[ns]["host_veth"], check=False)
        self.namespaces.clear()
        _ip("link", "del", self.bridge, check=False)

    def __enter__(self) -> "NetLab":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def cleanup_stale() -> List[str]:
        """Removes the namespaces and links of NetLabs whose process is gone; returns their names."""
        removed = []
        for ns in _ip("netns", "list", check=False).split("\n"):
            name = ns.split(" ")[0]
            m = _NAME.match(name)
            if m and not _alive(int(m.group(1), 16)):
                _kill_namespace(name)
                removed.append(name)
        for link in _links():
            m = _NAME.match(link)
            if m and not _alive(int(m.group(1), 16)) and link in _links():
                _ip("link", "del", link, check=False)
                removed.append(link)
        return removed
