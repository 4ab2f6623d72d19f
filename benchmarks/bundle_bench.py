"""Redaction throughput (and bundle build time) on ~200 MB of mixed logs. Run by hand:

    python benchmarks/bundle_bench.py [--size-mb 200] [--keep]

Generates (seeded) a file of mixed logs under benchmarks/data/ (syslog, nginx access, JSON app
logs, Python/Java style app logs from tests/logs/labelled.py) with secrets planted in ~2 % of the
lines, then prints, all measured in this one run on the same file:
  * diagkit secrets-only redaction (the always-on default) in MB/s, and ``sed -E`` applying
    equivalent patterns (the same secret rules as ``s///g`` expressions)     (target: faster)
  * the same with every obfuscation kind on (ip, host, mac, user, email), next to sed with the
    obfuscation patterns added (sed replaces with a fixed text: it cannot map consistently)
  * a check that no planted secret survived
  * when diagkit.reports.bundle.write_bundle exists: the time to build a bundle with the logs
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagkit.reports.redact import FalsePositives, RedactOptions, Redactor, TokenMap
from tests.logs import labelled

SECRETS = [
    "password=Hunter2{n}", '{{"password": "S3cret{n}"}}', "db_password: 'pw{n}x'",
    "curl -H 'Authorization: Bearer tok{n}abcdefgh' https://api.acme.com/",
    "postgres://app:Pg{n}pass@db.acme.com:5432/app", "mysql -u root -pMy{n}pass app",
    "token ghp_{n:0>36}", "AKIA{n:0>16}", "Cookie: sid=c{n}ookie; theme=dark",
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI{n}In0.sig{n}",
    "Server=sql1;Database=app;User Id=sa;Password=Ado{n}pw;",
    "--api-key K{n}apikey", "xoxb-{n:0>12}-slack", "sk_live_{n:0>24}",
]

# sed -E equivalents (ERE has no lazy quantifiers or look-arounds: close enough, and a bit less
# work than ours). The PEM rule uses sed's range addresses.
SED_SECRETS = [
    r"/-----BEGIN [A-Z ]*PRIVATE KEY-----/,/-----END [A-Z ]*PRIVATE KEY-----/c [REDACTED:private_key]",
    r"s/((proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?((bearer|basic|digest|token|negotiate)[ \t]+)?)[^\"'\r]+/\1[REDACTED:authorization]/gI",
    r"s/((set-)?cookie[\"']?[ \t]*[:=][ \t]*[\"']?)[^\"'\r]+/\1[REDACTED:cookie]/gI",
    r"s#([a-z][a-z0-9+.-]*://[^ :/@?]*:)[^ /?#]+@#\1[REDACTED:url_credentials]@#gI",
    r"s/(--?[a-z-]*(password|passwd|pass|token|secret|api-?key|access-?key)[ \t]+)[^ \t\"'-][^ \t\"']*/\1[REDACTED:command_line_password]/gI",
    r"s/((mysql|mysqldump|mariadb)[^-]* -p)[^ \t]+/\1[REDACTED:command_line_password]/gI",
    r"s/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/[REDACTED:jwt]/g",
    r"s/gh[pousr]_[A-Za-z0-9]{30,}/[REDACTED:github_token]/g",
    r"s/xox[abposr]-[A-Za-z0-9-]{10,}/[REDACTED:slack_token]/g",
    r"s/[rs]k_(live|test)_[A-Za-z0-9]{16,}/[REDACTED:stripe_key]/g",
    r"s/AIza[0-9A-Za-z_-]{35}/[REDACTED:google_api_key]/g",
    r"s/(AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}/[REDACTED:aws_access_key_id]/g",
    r"s/([?&]sig=)[^& \"']+/\1[REDACTED:azure_sas]/gI",
    r"s/(([A-Za-z0-9_.-]*(password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|cookie|session[_-]?id))[\"']?[ \t]*(=>|=|:)[ \t]*)(\"[^\"]*\"|'[^']*'|[^ \t\"'&;,<>]+)/\1[REDACTED:secret]/gI",
    r"s/(([A-Za-z0-9_.-]*[_.-])?(pass|pwd|pw|auth|psk)[\"']?[ \t]*(=>|=|:)[ \t]*)(\"[^\"]*\"|'[^']*'|[^ \t\"'&;,<>]+)/\1[REDACTED:password]/gI",
    r"s/(bearer[ \t]+)[A-Za-z0-9._~+\/-]{8,}=*/\1[REDACTED:bearer]/gI",
]
SED_OBFUSCATE = [
    r"s/[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,63}/user-1@domain-1.com/g",
    r"s/\b((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b/240.0.0.1/g",
    r"s/\b([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b|\b([0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4})*)?::([0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4})*)?\b/fd00::1/g",
    r"s/\b[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\b/02:00:00:00:00:01/g",
    r"s/((user(name)?|login|logname|ruser)[ \t]*[=:][ \t]*|(for|invalid) user[ \t]+|\/home\/|uid=[0-9]+\()[A-Za-z_][A-Za-z0-9._-]*/\1user-1/gI",
    r"s/for [A-Za-z_][A-Za-z0-9._-]* from/for user-1 from/g",
    r"s/^([A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}) [A-Za-z][A-Za-z0-9_.-]*/\1 host-1/",
    r"s/((host(name)?|server|node|rhost)[ \t]*[=:][ \t]*)[A-Za-z][A-Za-z0-9_.-]*/\1host-1/gI",
    r"s/\b([A-Za-z0-9-]+\.)+(com|net|org|io|local|lan|internal|corp|example|test|de|uk|fr)\b/host-1.domain-1.com/gI",
]


_PLANTED_SHAPES = re.compile(r"Hunter2\d+|S3cret\d+|pw\d+x|tok\d+abcdefgh|Pg\d+pass|My\d+pass|"
                             r"Ado\d+pw|K\d+apikey")


def generate(path: Path, size_mb: int, seed: int = 11) -> list[str]:
    """Mixed logs with planted secrets; returns the planted secret values to check for."""
    rnd = random.Random(seed)
    pool: list[str] = []
    for fmt in ("rfc3164", "jsonl", "access", "python", "log4j", "nginx_error", "iso"):
        pool.extend(x for x in labelled.generate(fmt, 4000, seed).lines if x)
    planted: list[str] = []
    target = size_mb << 20
    written = 0
    tmp = path.with_suffix(".part")
    key_block = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9u\n"
                 "ZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ{n}AAAAIDx\n"
                 "-----END OPENSSH PRIVATE KEY-----\n")
    with open(tmp, "w", encoding="utf-8", buffering=8 << 20) as out:
        n = 0
        while written < target:
            lines = rnd.choices(pool, k=1000)
            for i in rnd.sample(range(1000), 20):
                n += 1
                tmpl = SECRETS[n % len(SECRETS)]
                lines[i] = lines[i] + " " + tmpl.format(n=n)
            if n % 500 < 20:
                lines.append(key_block.format(n=n).rstrip("\n"))
            chunk = "\n".join(lines) + "\n"
            out.write(chunk)
            written += len(chunk)
    tmp.replace(path)
    for k in range(1, n + 1, 97):  # a sample of the planted values
        planted.extend(v for v in (f"Hunter2{k}", f"S3cret{k}", f"pw{k}x", f"tok{k}abcdefgh",
                                   f"Pg{k}pass", f"My{k}pass", f"Ado{k}pw", f"K{k}apikey"))
    return planted


def time_diagkit(src: Path, dst: Path, options: RedactOptions) -> tuple[float, Redactor]:
    tmp = Path(tempfile.mkdtemp())
    r = Redactor(options, token_map=TokenMap(tmp / "map.json"),
                 false_positives=FalsePositives(tmp / "fp.json"), max_hits=10_000)
    t0 = time.perf_counter()
    r.redact_file(src, dst)
    return time.perf_counter() - t0, r


def time_sed(src: Path, dst: Path, exprs: list[str]) -> float:
    script = dst.with_suffix(".sed")
    script.write_text("\n".join(exprs) + "\n")
    env = {**os.environ, "LC_ALL": "C"}
    t0 = time.perf_counter()
    with open(dst, "wb") as fout:
        subprocess.run(["sed", "-E", "-f", str(script), str(src)], stdout=fout, check=True, env=env)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    args = ap.parse_args()
    data = ROOT / "benchmarks" / "data"
    data.mkdir(parents=True, exist_ok=True)
    src = data / f"bundle_bench_{args.size_mb}mb.log"
    t0 = time.perf_counter()
    planted = generate(src, args.size_mb)
    mb = src.stat().st_size / 1e6
    print(f"generated {mb:.0f} MB of mixed logs in {time.perf_counter() - t0:.1f} s", flush=True)
    out = data / "bundle_bench.out"
    full = RedactOptions(obfuscate=frozenset({"ip", "host", "mac", "user", "email"}))
    for label, opts, exprs in (("secrets only", RedactOptions(), SED_SECRETS),
                               ("secrets + obfuscation", full, SED_SECRETS + SED_OBFUSCATE)):
        dt, r = time_diagkit(src, out, opts)
        text = out.read_text(encoding="utf-8")
        # one regex pass for the planted shapes, then the sample checked against what it found:
        # `p in text` for every sampled value took minutes on 200 MB
        found = set(_PLANTED_SHAPES.findall(text))
        leaked = [p for p in planted if any(p in f for f in found)]
        ds = time_sed(src, out.with_suffix(".sed.out"), exprs) if shutil.which("sed") else float("nan")
        print(f"{label:24s} diagkit {dt:6.1f} s = {mb / dt:6.1f} MB/s | sed -E {ds:6.1f} s = "
              f"{mb / ds:6.1f} MB/s | diagkit/sed speed {ds / dt:4.1f}x | leaked {len(leaked)}"
              f" | masked {sum(r.summary().values())}", flush=True)
        del text
    try:
        from diagkit.reports import bundle as bundle_mod
        from diagkit.reports import model
    except ImportError:
        print("bundle build: diagkit.reports.bundle not available yet")
    else:
        lines = tuple(src.read_text(encoding="utf-8").splitlines())
        b = model.Bundle(title="bench", logs=(model.LogExcerpt(str(src.name), lines, 1),))
        zpath = data / "bundle_bench.zip"
        t0 = time.perf_counter()
        bundle_mod.write_bundle(b, zpath)
        print(f"bundle build with {mb:.0f} MB of logs: {time.perf_counter() - t0:.1f} s "
              f"({zpath.stat().st_size / 1e6:.0f} MB zip)")
        zpath.unlink()
    for p in (out, out.with_suffix(".sed.out"), out.with_suffix(".sed"),
              out.with_suffix(".sed.out").with_suffix(".sed")):
        p.unlink(missing_ok=True)
    if not args.keep:
        src.unlink()


if __name__ == "__main__":
    main()
