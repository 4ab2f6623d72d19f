"""Labelled logs for measuring signature grouping: lines in a real format + the true template id.

Each format gets a realistic set of message templates (sshd, kernel, systemd, nginx, postgres,
application errors...) whose ``{kind}`` slots are filled by seeded generators. Template
frequencies are Zipf-like, so some templates are rare. Some templates are deliberately tricky:
pairs that differ only in one constant word, variables that look like constants (user and host
names, unit names), variables in the first position. Variables never change the token count
(a multi-word variable would make the "true" template ambiguous).

``generate(fmt, n, seed)`` -> :class:`LabelledLog`; ``grouping_accuracy(pred, truth)`` is the
loghub "GA" metric; ``records_of(lines)`` parses lines with :mod:`diagkit.logs.formats`.

Used by ``tests/logs/test_signatures.py`` and ``benchmarks/signatures_eval.py``.
"""

from __future__ import annotations

import json
import random
import string
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# --- variable generators -----------------------------------------------------------------------

USERS = ["root", "admin", "bob", "alice", "deploy", "postgres", "www-data", "svc_backup", "git",
         "jenkins", "oracle", "test", "ubuntu", "nagios", "mysql", "guest", "carol", "dave1"]
HOSTS = ["web01", "web02", "db-1", "db-2", "cache", "lb-edge", "api3", "worker7", "mail",
         "backup", "build-agent-4", "kube-node-12"]
PROCS = ["nginx", "python3", "java", "postgres", "node", "chrome", "dockerd", "redis-server"]
UNITS = ["nginx.service", "postgresql.service", "docker.service", "cron.service",
         "ssh.service", "apt-daily.service", "backup.timer", "redis.service", "kubelet.service"]
TABLES = ["users", "orders", "payments", "sessions", "audit_log", "products", "invoices"]
DBS = ["app", "analytics", "billing", "auth"]
IFACES = ["eth0", "eth1", "enp3s0", "wlan0", "ens192", "bond0"]
DEVS = ["sda1", "sdb2", "nvme0n1p2", "dm-0", "vda1"]
CITIES = ["Berlin", "Lisbon", "Osaka", "Denver", "Nairobi", "Lima", "Oslo"]
THREADS = ["main", "pool-1-thread-3", "http-nio-8080-exec-7", "scheduler-1", "kafka-consumer"]
METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"]
ZONES = ["api", "login", "static"]
DIRS = ["/var/lib/app", "/srv/data", "/home/bob", "/opt/service/conf", "/tmp", "/var/log/app",
        "/etc/nginx/sites-enabled", "/usr/share/nginx/html"]
FILES = ["config.yaml", "index.html", "data.db", "report.csv", "favicon.ico", "app.log",
         "settings.json", "cert.pem"]


def _hex(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def _uuid(r: random.Random) -> str:
    h = _hex(r, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _ip(r: random.Random) -> str:
    return f"{r.choice([10, 172, 192, 203, 85])}.{r.randint(0, 255)}.{r.randint(0, 255)}." \
           f"{r.randint(1, 254)}"


GEN: dict[str, Callable[[random.Random], str]] = {
    "user": lambda r: r.choice(USERS),
    "host": lambda r: r.choice(HOSTS),
    "ip": _ip,
    "ip6": lambda r: f"2001:db8::{_hex(r, 4).lstrip('0') or '1'}",
    "port": lambda r: str(r.randint(1024, 65535)),
    "pid": lambda r: str(r.randint(2, 99999)),
    "num": lambda r: str(r.randint(0, 5000)),
    "small": lambda r: str(r.randint(1, 9)),
    "float": lambda r: f"{r.uniform(0, 999):.3f}",
    "pct": lambda r: f"{r.uniform(0, 100):.1f}",
    "dur": lambda r: r.choice([f"{r.randint(1, 999)}ms", f"{r.uniform(0.1, 60):.1f}s",
                               f"{r.randint(1, 500)}us"]),
    "size": lambda r: r.choice([f"{r.randint(1, 999)}MB", f"{r.randint(1, 64)}GB",
                                f"{r.randint(1, 999)}KB"]),
    "uuid": _uuid,
    "hex": lambda r: "0x" + _hex(r, r.choice([8, 12, 16])),
    "sha": lambda r: _hex(r, 40),
    "short_sha": lambda r: _hex(r, 7) if True else "",
    "reqid": lambda r: "req-" + _hex(r, 12),
    "mac": lambda r: ":".join(_hex(r, 2) for _ in range(6)),
    "email": lambda r: f"{r.choice(USERS)}@{r.choice(['example.com', 'corp.local', 'mail.org'])}",
    "url": lambda r: f"https://{r.choice(HOSTS)}.example.com/api/v{r.randint(1, 3)}/"
                     f"{r.choice(TABLES)}/{r.randint(1, 9999)}",
    "path": lambda r: f"{r.choice(DIRS)}/{r.choice(FILES)}",
    "proc": lambda r: r.choice(PROCS),
    "unit": lambda r: r.choice(UNITS),
    "table": lambda r: r.choice(TABLES),
    "db": lambda r: r.choice(DBS),
    "iface": lambda r: r.choice(IFACES),
    "dev": lambda r: r.choice(DEVS),
    "city": lambda r: r.choice(CITIES),
    "thread": lambda r: r.choice(THREADS),
    "zone": lambda r: r.choice(ZONES),
    "ktime": lambda r: f"{r.uniform(1, 99999):.6f}",
    "key": lambda r: f"{r.choice(['user', 'session', 'cart'])}:{r.randint(1, 99999)}",
    "b64": lambda r: "".join(r.choice(string.ascii_letters + string.digits + "+/")
                             for _ in range(43)),
    "date": lambda r: f"2024-0{r.randint(1, 9)}-{r.randint(10, 28)}",
    "ver": lambda r: f"{r.randint(1, 5)}.{r.randint(0, 20)}.{r.randint(0, 9)}",
}

# --- template pools ---------------------------------------------------------------------------
# (level, template). Template ids are global positions in POOL order (see _pool_ids).

SSHD = [
    ("info", "Accepted password for {user} from {ip} port {port} ssh2"),
    ("info", "Accepted publickey for {user} from {ip} port {port} ssh2: RSA SHA256:{b64}"),
    ("warning", "Failed password for {user} from {ip} port {port} ssh2"),
    ("warning", "Failed password for invalid user {user} from {ip} port {port} ssh2"),
    ("warning", "Invalid user {user} from {ip} port {port}"),
    ("info", "Connection closed by {ip} port {port} [preauth]"),
    ("info", "Connection reset by {ip} port {port} [preauth]"),
    ("info", "Disconnected from user {user} {ip} port {port}"),
    ("info", "Received disconnect from {ip} port {port}:11: disconnected by user"),
    ("info", "pam_unix(sshd:session): session opened for user {user}(uid={num}) by (uid=0)"),
    ("info", "pam_unix(sshd:session): session closed for user {user}"),
    ("error", ("error: maximum authentication attempts exceeded for {user} from {ip} port {port}"
              " ssh2 [preauth]")),
    ("error", "fatal: Timeout before authentication for {ip} port {port}"),
]
KERNEL = [
    ("info", "usb 1-{small}: new high-speed USB device number {num} using xhci_hcd"),
    ("critical", ("Out of memory: Killed process {pid} ({proc}) total-vm:{num}kB, anon-rss:{num}kB,"
                 " file-rss:0kB, shmem-rss:0kB, UID:{num} pgtables:{num}kB oom_score_adj:0")),
    ("error", ("EXT4-fs error (device {dev}): ext4_find_entry:1455: inode #{num}: comm {proc}:"
              " reading directory lblock 0")),
    ("info", "{iface}: Link is Up - 1Gbps/Full - flow control rx/tx"),
    ("warning", "{iface}: Link is Down"),
    ("warning", ("TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies."
                " Check SNMP counters.")),
    ("warning", "nf_conntrack: table full, dropping packet"),
    ("warning", ("CPU{small}: Core temperature above threshold, cpu clock throttled"
                " (total events = {num})")),
    ("warning", ("CPU{small}: Package temperature above threshold, cpu clock throttled"
                " (total events = {num})")),
    ("error", ("{proc}[{pid}]: segfault at {hex} ip {hex} sp {hex} error 4 in libc.so.6[{hex}+"
              "{hex}]")),
    ("info", "IPv6: ADDRCONF(NETDEV_CHANGE): {iface}: link becomes ready"),
    ("error", ("blk_update_request: I/O error, dev {dev}, sector {num} op 0x0:(READ) flags 0x0"
              " phys_seg 1 prio class 0")),
]
SYSTEMD = [
    ("info", "Started {unit}."),
    ("info", "Starting {unit}..."),
    ("info", "Stopped {unit}."),
    ("error", "{unit}: Main process exited, code=exited, status={small}/FAILURE"),
    ("warning", "{unit}: Failed with result 'exit-code'."),
    ("info", "Started Session {num} of User {user}."),
    ("info", "New session {num} of user {user}."),
    ("info", "Removed session {num}."),
    ("info", "{unit}: Scheduled restart job, restart counter is at {small}."),
    ("info", "{unit}: Consumed {dur} CPU time."),
]
NGINX = [
    ("error", ("{num}#{num}: *{num} open() \"{path}\" failed (2: No such file or directory),"
              " client: {ip}, server: {host}, request: \"GET /{host} HTTP/1.1\", host: \"{host}\"")),
    ("error", ("{num}#{num}: *{num} connect() failed (111: Connection refused) while connecting"
              " to upstream, client: {ip}, server: {host}, upstream: \"http://{ip}:{port}/\"")),
    ("error", ("{num}#{num}: *{num} upstream timed out (110: Connection timed out) while reading"
              " response header from upstream, client: {ip}, server: {host}")),
    ("warning", ("{num}#{num}: *{num} an upstream response is buffered to a temporary file"
                " {path} while reading upstream, client: {ip}, server: {host}")),
    ("error", ("{num}#{num}: *{num} client intended to send too large body: {num} bytes,"
              " client: {ip}, server: {host}")),
    ("warning", ("{num}#{num}: *{num} limiting requests, excess: {float} by zone \"{zone}\","
                " client: {ip}, server: {host}")),
    ("info", "{num}#{num}: signal process started"),
    ("critical", "{num}#{num}: bind() to {ip}:{port} failed (98: Address already in use)"),
]
POSTGRES = [
    ("info", "connection received: host={ip} port={port}"),
    ("info", "connection authorized: user={user} database={db}"),
    ("error", "password authentication failed for user \"{user}\""),
    ("info", "duration: {float} ms  statement: SELECT * FROM {table} WHERE id = {num}"),
    ("error", "deadlock detected"),
    ("error", "relation \"{table}\" does not exist at character {num}"),
    ("warning", "could not receive data from client: Connection reset by peer"),
    ("info", "checkpoint starting: time"),
    ("info", ("checkpoint complete: wrote {num} buffers ({pct}%); 0 WAL file(s) added, 0 removed,"
             " {small} recycled; write={float} s, sync={float} s, total={float} s")),
    ("info", "automatic vacuum of table \"{db}.public.{table}\": index scans: {small}"),
]
APP = [
    ("info", "User {user} logged in from {ip}"),
    ("info", "User {user} logged out"),
    ("info", "Processing order {uuid} for customer {num}"),
    ("info", "Order {uuid} shipped to {city}"),
    ("error", "Payment failed for order {uuid}: card declined"),
    ("error", "Payment declined for order {uuid}: insufficient funds"),
    ("debug", "Cache miss for key {key}"),
    ("debug", "Cache hit for key {key}"),
    ("info", "Request {reqid} completed in {dur} with status {num}"),
    ("warning", "Retrying connection to {host}:{port} (attempt {small}/5)"),
    ("info", "Loaded {num} items from {path} in {dur}"),
    ("warning", "Slow query detected: {dur} over threshold of 500ms"),
    ("info", "Worker {small} started"),
    ("warning", "Worker {small} exited with code {small}"),
    ("warning", "Disk usage at {pct}% on /dev/{dev}"),
    ("error", "Failed to connect to database at {host}:{port}: timeout after {dur}"),
    ("info", "Config reloaded"),
    ("info", "Health check passed"),
    ("error", "Health check failed for {url}"),
    ("info", "Sent notification to {email}"),
    ("info", "Deployed version {ver} (commit {sha})"),
    ("warning", "Memory usage {size} exceeds soft limit"),
    ("info", "Session {hex} expired for {user}"),
    ("info", "Uploaded {size} to bucket {host} as {uuid}"),
]
ERRORS = [  # application errors that carry a traceback / stack trace
    ("error", "Unhandled exception while processing request {reqid}"),
    ("error", "Job {uuid} failed after {small} attempts"),
    ("critical", "Could not start scheduler on {host}"),
]
ACCESS_ROUTES = [
    ("GET", "/"), ("GET", "/api/v1/users/{num}"), ("GET", "/api/v1/orders/{uuid}"),
    ("POST", "/api/v1/orders"), ("GET", "/static/js/app.{short_sha}.js"), ("GET", "/favicon.ico"),
    ("POST", "/login"), ("GET", "/health"), ("DELETE", "/api/v1/sessions/{hex}"),
    ("PUT", "/api/v1/users/{num}/avatar"), ("GET", "/search"), ("GET", "/api/v1/products/{num}"),
]

LEVEL_WORD = {"debug": "DEBUG", "info": "INFO", "warning": "WARNING", "error": "ERROR",
              "critical": "CRITICAL"}
SYSLOG_PRI = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2}

# which pools each format draws from, with a program name for syslog-like formats
_POOLS: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "rfc3164": [("sshd", SSHD), ("kernel", KERNEL), ("systemd", SYSTEMD)],
    "rfc5424": [("sshd", SSHD), ("postgres", POSTGRES), ("systemd", SYSTEMD[:6])],
    "journald": [("systemd", SYSTEMD), ("kernel", KERNEL), ("sshd", SSHD[:8])],
    "jsonl": [("app", APP), ("postgres", POSTGRES[:6])],
    "nginx_error": [("nginx", NGINX)],
    "python": [("app", APP), ("app", ERRORS)],
    "log4j": [("app", APP[:16]), ("app", ERRORS)],
    "iso": [("app", APP), ("postgres", POSTGRES)],
    "plain": [("app", APP[:12]), ("sshd", SSHD[:6]), ("kernel", KERNEL[:6])],
}
FORMAT_NAMES = [*_POOLS, "access"]


@dataclass(frozen=True)
class LabelledLog:
    format: str  # generator's format name (see FORMAT_NAMES)
    lines: list[str]  # the file's lines (multi-line records span several)
    labels: list[int]  # the true template id of each record
    messages: list[str]  # each record's message, as written (first line = the template text)
    templates: list[str]  # template id -> template text

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _fill(template: str, r: random.Random) -> str:
    out, i = [], 0
    while True:
        j = template.find("{", i)
        if j < 0:
            out.append(template[i:])
            return "".join(out)
        k = template.index("}", j)
        out.append(template[i:j])
        out.append(GEN[template[j + 1:k]](r))
        i = k + 1


def _zipf_weights(n: int, r: random.Random) -> list[float]:
    ranks = list(range(1, n + 1))
    r.shuffle(ranks)
    return [1.0 / (k ** 1.1) for k in ranks]


def _traceback(r: random.Random) -> list[str]:
    exc = r.choice(["KeyError: 'id'", "ValueError: invalid literal for int() with base 10: 'x'",
                    "ConnectionError: [Errno 111] Connection refused", "TimeoutError"])
    lines = ["Traceback (most recent call last):"]
    for _ in range(r.randint(1, 4)):
        lines.append(f'  File "/srv/app/{r.choice(["api", "jobs", "db"])}/{r.choice(FILES[:3])}'
                     f'.py", line {r.randint(1, 900)}, in {r.choice(["run", "handle", "get"])}')
        lines.append(f"    {r.choice(['return self.get(key)', 'conn.send(data)', 'x = int(v)'])}")
    lines.append(exc)
    return lines


def _stack(r: random.Random) -> list[str]:
    lines = [r.choice(["java.lang.NullPointerException: null",
                       "java.lang.IllegalStateException: pool exhausted",
                       "java.net.SocketTimeoutException: Read timed out"])]
    for _ in range(r.randint(2, 6)):
        lines.append(f"\tat com.example.{r.choice(['svc', 'db', 'web'])}.{r.choice(['Foo', 'Bar'])}"
                     f".{r.choice(['run', 'call', 'query'])}({r.choice(['Foo', 'Bar'])}.java:"
                     f"{r.randint(10, 999)})")
    if r.random() < 0.3:
        lines.append(f"\t... {r.randint(2, 40)} more")
    return lines


def generate(fmt: str, n: int = 3000, seed: int = 1) -> LabelledLog:
    """``n`` records of format ``fmt`` (see ``FORMAT_NAMES``), reproducible for a seed."""
    r = random.Random(f"{fmt}:{seed}")
    if fmt == "access":
        return _access(n, r)
    entries = [(prog, lvl, t) for prog, pool in _POOLS[fmt] for lvl, t in pool]
    weights = _zipf_weights(len(entries), r)
    ids = r.choices(range(len(entries)), weights=weights, k=n)
    t0 = datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC)
    lines: list[str] = []
    messages: list[str] = []
    for i, tid in enumerate(ids):
        prog, lvl, tmpl = entries[tid]
        msg = _fill(tmpl, r)
        ts = t0 + timedelta(seconds=i * 1.7 + r.random())
        extra: list[str] = []
        if entries[tid][2] in {t for _, t in ERRORS}:
            extra = _traceback(r) if fmt == "python" else _stack(r)
        host, pid = r.choice(HOSTS), r.randint(100, 40000)
        ms = f"{ts.microsecond // 1000:03d}"
        if fmt == "rfc3164":
            tag = "kernel" if prog == "kernel" else f"{prog}[{pid}]"
            lines.append(f"{ts:%b} {ts.day:>2} {ts:%H:%M:%S} {host} {tag}: {msg}")
        elif fmt == "rfc5424":
            pri = 8 + SYSLOG_PRI[lvl]
            lines.append(f"<{pri}>1 {ts:%Y-%m-%dT%H:%M:%S}.{ms}Z {host} {prog} {pid} - - {msg}")
        elif fmt == "journald":
            lines.append(json.dumps({
                "__REALTIME_TIMESTAMP": str(int(ts.timestamp() * 1_000_000)),
                "PRIORITY": str(SYSLOG_PRI[lvl]), "_HOSTNAME": host, "SYSLOG_IDENTIFIER": prog,
                "_PID": str(pid), "MESSAGE": msg}))
        elif fmt == "jsonl":
            lines.append(json.dumps({"timestamp": f"{ts:%Y-%m-%dT%H:%M:%S}.{ms}Z",
                                     "level": lvl, "logger": f"{prog}.core", "message": msg}))
        elif fmt == "nginx_error":
            lines.append(f"{ts:%Y/%m/%d %H:%M:%S} [{'warn' if lvl == 'warning' else lvl}] {msg}")
        elif fmt == "python":
            lines.append(f"{ts:%Y-%m-%d %H:%M:%S},{ms} {LEVEL_WORD[lvl]} {prog}.worker: {msg}")
            msg = "\n".join([msg, *extra])
            lines.extend(extra)
        elif fmt == "log4j":
            thread = r.choice(THREADS)
            lvl4 = {"warning": "WARN", "critical": "FATAL"}.get(lvl, LEVEL_WORD[lvl])
            lines.append(f"{ts:%Y-%m-%d %H:%M:%S},{ms} {lvl4:<5} [{thread}] "
                         f"com.example.{prog.capitalize()}Service - {msg}")
            msg = "\n".join([msg, *extra])
            lines.extend(extra)
        elif fmt == "iso":
            lines.append(f"{ts:%Y-%m-%dT%H:%M:%S}.{ms}Z {LEVEL_WORD[lvl]} {msg}")
        else:  # plain
            lines.append(msg)
        messages.append(msg)
    return LabelledLog(fmt, lines, list(ids), messages, [t for _, _, t in entries])


def _access(n: int, r: random.Random) -> LabelledLog:
    weights = _zipf_weights(len(ACCESS_ROUTES), r)
    ids = r.choices(range(len(ACCESS_ROUTES)), weights=weights, k=n)
    t0 = datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC)
    agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
              "curl/8.4.0", "Go-http-client/1.1", "kube-probe/1.28"]
    lines, messages, labels = [], [], []
    for i, tid in enumerate(ids):
        method, route = ACCESS_ROUTES[tid]
        path = _fill(route, r)
        if route == "/search":
            path += f"?q={r.choice(CITIES).lower()}&page={r.randint(1, 9)}"
        ts = t0 + timedelta(seconds=i * 0.9)
        status = r.choice([200, 200, 200, 201, 204, 301, 304, 400, 404, 500])
        user = r.choice(["-", "-", "-", r.choice(USERS)])
        request = f"{method} {path} HTTP/1.1"
        lines.append(f'{_ip(r)} - {user} [{ts:%d/%b/%Y:%H:%M:%S} +0000] "{request}" {status} '
                     f'{r.randint(0, 90000)} "-" "{r.choice(agents)}"')
        messages.append(request)
        # an access log's event is the route and the status class: a 200 and a 404 of one route
        # are different events (a variable inside the route is not)
        labels.append(tid * 6 + status // 100)
    return LabelledLog("access", lines, labels, messages,
                       [f"{m} {p} {c}xx" for m, p in ACCESS_ROUTES for c in range(6)])


# --- measuring --------------------------------------------------------------------------------


def grouping_accuracy(predicted: Sequence[int], truth: Sequence[int]) -> float:
    """Loghub/Drain "grouping accuracy": a record is right when its predicted group holds
    exactly the records of its true template."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and truth differ in length")
    if not truth:
        return 1.0
    pred_groups: dict[int, list[int]] = defaultdict(list)
    true_size: dict[int, int] = defaultdict(int)
    for i, (p, t) in enumerate(zip(predicted, truth)):
        pred_groups[p].append(i)
        true_size[t] += 1
    correct = 0
    for members in pred_groups.values():
        t = truth[members[0]]
        if true_size[t] == len(members) and all(truth[i] == t for i in members):
            correct += len(members)
    return correct / len(truth)


def parsed_records(lines: list[str]) -> tuple[str, list[tuple[str, object]]]:
    """Parse lines the way the app does: detect the format, group continuation lines into
    records, parse each. Returns the format's name and ``(message, Fields)`` per record."""
    from diagkit.logs import formats
    from diagkit.logs.model import ParseContext

    fmt = formats.detect_format(lines[:200])
    ctx = ParseContext(reference_time=datetime(2024, 12, 31, tzinfo=UTC))
    texts: list[str] = []
    for line in lines:
        if texts and fmt.multiline and not fmt.is_record_start(line):
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    out = []
    for text in texts:
        fields = fmt.parse(text, ctx)
        out.append((fields.message, fields))
    return fmt.name, out
