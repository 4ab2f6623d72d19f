"""diagkit.reports.redact: every secret rule (positive and negative), obfuscation consistency,
unredact, false positives, file names, the private map file; hypothesis property tests."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from diagkit.errors import BundleError
from diagkit.reports.redact import FalsePositives, RedactOptions, Redactor, TokenMap

ALL = RedactOptions(obfuscate=frozenset({"ip", "host", "mac", "user", "email"}))


def make(options: RedactOptions = RedactOptions(), tmp: Path | None = None) -> Redactor:
    if tmp is None:
        return Redactor(options)
    return Redactor(options, token_map=TokenMap.load(tmp / "map.json"),
                    false_positives=FalsePositives.load(tmp / "fp.json"))


# (rule, text, the secret that must disappear)
POSITIVE = [
    ("password", "db_password=hunter2 next", "hunter2"),
    ("password", "PGPASSWORD=pg-Secret1 psql -h db", "pg-Secret1"),
    ("password", "MYSQL_PWD=abc123def mysql", "abc123def"),
    ("password", '{"user": "bob", "password": "s3cr\\"et"}', 's3cr\\"et'),
    ("password", "{\\\"password\\\": \\\"inner-secret\\\"}", "inner-secret"),
    ("password", "  password: my long yaml pass\n", "my long yaml pass"),
    ("password", "- passwd: 'quoted yaml'\n", "quoted yaml"),
    ("password", "jdbc:mysql://db/app?user=x&password=jdbcpw1&ssl=1", "jdbcpw1"),
    ("password", "Server=sql1;Database=app;User Id=sa;Password=AdoPw9;", "AdoPw9"),
    ("password", "Host=db;Pwd=shortpw1;", "shortpw1"),
    ("secret", "client_secret = cs-998877", "cs-998877"),
    ("secret", "X-Api-Key: key-abcdef123", "key-abcdef123"),
    ("aws_secret_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("aws_access_key_id", "key id AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    ("url_credentials", "postgres://app:pg@pass@db.acme.com:5432/app", "pg@pass"),
    ("url_credentials", "mongodb+srv://root:m0ng0pw@cluster0.x.net/db", "m0ng0pw"),
    ("url_credentials", "redis://:redispw77@cache:6379", "redispw77"),
    ("command_line_password", "tool --password hunter3 --verbose", "hunter3"),
    ("password", "tool --password=hunter4 --verbose", "hunter4"),
    ("command_line_password", "sshpass -p 'sp pw' ssh host", "sp pw"),
    ("command_line_password", "mysql -u root -pMyPass01 app", "MyPass01"),
    ("command_line_password", "deploy --api-key AK-55-66 now", "AK-55-66"),
    ("authorization", "Authorization: Bearer abc.def.ghi-jkl", "abc.def.ghi-jkl"),
    ("authorization", "authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("bearer", "sent bearer AbCdEfGh12345678 to api", "AbCdEfGh12345678"),
    ("github_token", "ghp_" + "a1" * 18, "ghp_" + "a1" * 18),
    ("github_token", "x github_pat_" + "B2" * 15 + " y", "github_pat_" + "B2" * 15),
    ("slack_token", "xoxb-123456789012-abcdefABCDEF", "xoxb-123456789012-abcdefABCDEF"),
    ("stripe_key", "sk_live_" + "9" * 24, "sk_live_" + "9" * 24),
    ("google_api_key", "AIza" + "S" * 35, "AIza" + "S" * 35),
    ("jwt", "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
     "eyJzdWIiOiIxMjM0In0"),
    ("private_key", ("a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nqwe\n"
                    "-----END RSA PRIVATE KEY-----\nb"), "MIIEowIBAAKCAQEA"),
    ("private_key", ('{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\\n'
                    '-----END PRIVATE KEY-----\\n"}'), "MIIEvQIBADAN"),
    ("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nunterminatedkeydata", "unterminatedkeydata"),
    ("cookie", "Cookie: sid=abc123; theme=dark", "sid=abc123"),
    ("cookie", "Set-Cookie: session=zz99; Path=/; HttpOnly", "session=zz99"),
    ("azure_sas", "https://acct.blob.core.windows.net/c?sv=2020&sig=AbC%2Bdef", "AbC%2Bdef"),
    ("generic_secret", "api key " + "f" * 40, "f" * 40),
]

NEGATIVE = [
    "Failed password for invalid user bob from 10.0.0.1 port 22 ssh2",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh",
    "author=Jane title=Report",
    "bypass=true mode=fast",
    "mysql -u root -p app",  # -p alone prompts: "app" is the database
    "GET /index.html HTTP/1.1 200 512",
    "the token was refused",
    "session opened for user root by (uid=0)",
    "http://example.com:8080/path@anchor",
    "key rotation finished in 12ms",
]


@pytest.mark.parametrize(("rule", "text", "secret"), POSITIVE)
def test_secret_rules_mask(rule: str, text: str, secret: str) -> None:
    r = make()
    out = r.redact(text)
    assert secret not in out, out
    assert f"[REDACTED:{rule}]" in out, out
    assert r.summary().get(rule, 0) >= 1


@pytest.mark.parametrize("text", NEGATIVE)
def test_secret_rules_leave_ordinary_text(text: str) -> None:
    r = make()
    assert r.redact(text) == text
    assert r.summary() == {}


def test_structure_is_kept() -> None:
    r = make()
    assert r.redact('{"password": "x1"}') == '{"password": "[REDACTED:password]"}'
    assert (r.redact("postgres://app:pw@db/x")
            == "postgres://app:[REDACTED:url_credentials]@db/x")
    assert r.redact("Authorization: Bearer tkn12345") == \
        "Authorization: Bearer [REDACTED:authorization]"


def test_mysql_line_with_two_secrets() -> None:
    out = make().redact("mysql --password=first1 -u root -psecond2 db")
    assert "first1" not in out and "second2" not in out


def test_redacting_twice_changes_nothing(tmp_path: Path) -> None:
    r = make(ALL, tmp_path)
    once = r.redact("password=pw1 from 10.1.2.3 at web1.acme.com by user=alice 00:11:22:33:44:55")
    assert r.redact(once) == once


def test_summary_has_counts_no_values() -> None:
    r = make()
    r.redact("password=TopSecret1\ntoken=TopSecret2\npassword=TopSecret3")
    s = r.summary()
    assert s == {"password": 2, "secret": 1}
    assert "TopSecret" not in repr(s)
    assert all("TopSecret" not in h.original_preview and "TopSecret" not in repr(h) for h in r.hits)


# --- obfuscation -----------------------------------------------------------------------------


def test_ipv4_subnets_stay_recognisable(tmp_path: Path) -> None:
    r = make(RedactOptions(obfuscate=frozenset({"ip"})), tmp_path)
    out = r.redact("10.1.2.3 10.1.2.9 10.1.7.1 192.168.0.1 127.0.0.1 0.0.0.0 255.255.255.0")
    a, b, c, d, *kept = out.split()
    assert a.rsplit(".", 1)[0] == b.rsplit(".", 1)[0]  # same /24
    assert a.endswith(".3") and b.endswith(".9")
    assert a.split(".")[:2] == c.split(".")[:2]  # same /16
    assert c.rsplit(".", 1)[0] != a.rsplit(".", 1)[0]
    assert d.split(".")[:2] != a.split(".")[:2]
    assert "10.1.2" not in out and "192.168" not in out
    assert kept == ["127.0.0.1", "0.0.0.0", "255.255.255.0"]


def test_hosts_keep_structure(tmp_path: Path) -> None:
    r = make(RedactOptions(obfuscate=frozenset({"host"})), tmp_path)
    out = r.redact("Mar  1 11:00:00 web1 sshd[1]: to web1.acme.com and db.acme.com, see example.com")
    m = re.search(r"to (\S+) and (\S+),", out)
    assert m
    h1, h2 = m.group(1).split("."), m.group(2).split(".")
    assert h1[1:] == h2[1:] and h1[-1] == "com" and h1[0] != h2[0]
    assert out.split()[3] == h1[0]  # the syslog short name maps like the FQDN's first label
    assert "acme" not in out and "web1" not in out and "example.com" in out


def test_mac_user_email_ipv6(tmp_path: Path) -> None:
    r = make(ALL, tmp_path)
    text = ("link 00:50:56:aa:bb:cc up; Accepted publickey for carol from ::1; user=dave; "
            "/home/erin/x; uid=1001(frank); mail gina@acme.com; 2001:db8::5 ::1; root ok")
    out = r.redact(text)
    for real in ("00:50:56:aa:bb:cc", "carol", "dave", "erin", "frank", "gina", "acme",
                 "2001:db8::5"):
        assert real not in out, real
    assert "::1" in out and "root" in out


def test_keywords_and_known_users(tmp_path: Path) -> None:
    r = make(RedactOptions(obfuscate=frozenset({"user"}), keywords=("Initech",),
                           users=("zelda",)), tmp_path)
    out = r.redact("INITECH ticket by zelda; zeldas stays")
    assert "INITECH" not in out and "zelda " not in out and "zeldas" in out


def test_consistent_across_two_bundles_and_unredact(tmp_path: Path) -> None:
    text = "web1.acme.com 10.9.8.7 bob@acme.com user=alice 00:11:22:33:44:55 2001:db8::7"
    r1 = make(ALL, tmp_path)
    out1 = r1.redact(text, source="a.log")
    assert r1.redact(text, source="b.log") == out1  # same value -> same token across files
    r1.save()
    r2 = make(ALL, tmp_path)  # a second bundle, loading the saved map
    assert r2.redact(text) == out1
    assert TokenMap.load(tmp_path / "map.json").unredact(f"see {out1}!") == f"see {text}!"


def test_map_file_is_private_and_has_no_secrets(tmp_path: Path) -> None:
    r = make(ALL)  # default location in the (test-isolated) data dir
    r.redact("password=NeverStored1 host=web9.acme.com 10.2.3.4")
    r.save()
    path = TokenMap.default_path()
    assert path.is_file()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    body = path.read_text()
    assert "NeverStored1" not in body and "10.2.3" in body


def test_false_positives_honoured_except_private_keys(tmp_path: Path) -> None:
    r = make(ALL, tmp_path)
    hits = r.preview({"a.log": "password=changeme host 10.5.5.5"})["a.log"]
    assert {h.rule for h in hits} == {"password", "ipv4"}
    assert r.summary() == {}  # preview leaves the redactor untouched
    fp = FalsePositives.load(tmp_path / "fp.json")
    for h in hits:
        fp.add(h)
    fp.add("KEYDATA")
    fp.save()
    r2 = make(ALL, tmp_path)
    text = "password=changeme host 10.5.5.5\n-----BEGIN PRIVATE KEY-----\nKEYDATA\n-----END PRIVATE KEY-----"
    out = r2.redact(text)
    assert "password=changeme host 10.5.5.5" in out and "KEYDATA" not in out


def test_file_names(tmp_path: Path) -> None:
    r = make(ALL, tmp_path)
    name = r.redact_name("dump-10.1.2.3-password=pw55.log")
    assert "10.1.2.3" not in name and "pw55" not in name
    assert not set(name) & set('/\\:[]"')


def test_non_ascii(tmp_path: Path) -> None:
    r = make(ALL, tmp_path)
    text = "İstanbul ünïcødé 密码 password=пароль123 user=jörg host 10.0.0.7 ✓"
    out = r.redact(text)
    assert "пароль123" not in out and "10.0.0.7" not in out
    assert out.startswith("İstanbul ünïcødé 密码 password=[REDACTED:password]") and out.endswith("✓")


def test_redact_lines_and_file(tmp_path: Path) -> None:
    r = make(ALL, tmp_path)
    lines = ["a password=x1", "b 10.0.0.1", "c"]
    assert r.redact_lines(lines) == tuple(r.redact(x) for x in lines)
    src, dst = tmp_path / "in.log", tmp_path / "out.log"
    src.write_text("x\n" * 1000 + "-----BEGIN PRIVATE KEY-----\n" + "K" * 100 + "\n"
                   "-----END PRIVATE KEY-----\npassword=y2\n")
    r.redact_file(src, dst, chunk_chars=512)  # the key block crosses chunk borders
    out = dst.read_text()
    assert "KKKK" not in out and "y2" not in out and out.count("x\n") == 1000


def test_bad_options_and_broken_map(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="Unknown obfuscation"):
        RedactOptions(obfuscate=frozenset({"ssn"}))
    (tmp_path / "map.json").write_text("{broken")
    with pytest.raises(BundleError, match="not valid JSON"):
        TokenMap.load(tmp_path / "map.json")


# --- properties ------------------------------------------------------------------------------

SECRET_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
secret_values = st.text(SECRET_ALPHABET, min_size=10, max_size=24)
TEMPLATES = [
    "password={s}", "db_passwd: {s}", '"api_key": "{s}"', "--token {s}", "postgres://u:{s}@h/db",
    "Authorization: Bearer {s}", "Cookie: id={s}", "PGPASSWORD={s} psql", "sshpass -p {s} ssh",
    "client_secret='{s}'", "mysql -u x -p{s} db", "aws_secret_access_key={s}",
    "-----BEGIN EC PRIVATE KEY-----\n{s}\n-----END EC PRIVATE KEY-----",
    "curl -sf -u admin:{s} https://x", "machine h login u password {s}",
    "jdbc:oracle:thin:scott/{s}@db:1521/x", '<add key="DbPassword" value="{s}"/>',
    "<password>{s}</password>", '"password":\n  "{s}"', "IDENTIFIED BY '{s}'", "(pw {s}7!)",
    "STRIPE_WEBHOOK_SECRET=whsec_{s}{s}", "glpat-{s}{s}", "{s}\n{s}\n-----END RSA PRIVATE KEY-----",
]
filler = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                 max_size=60)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=filler, after=filler, secret=secret_values, tmpl=st.sampled_from(TEMPLATES),
       obf=st.booleans())
def test_planted_secrets_never_survive(before: str, after: str, secret: str, tmpl: str,
                                       obf: bool) -> None:
    assume(secret not in before and secret not in after)
    text = f"{before}\n{tmpl.format(s=secret)}\n{after}"
    r = Redactor(ALL if obf else RedactOptions(), token_map=TokenMap(Path("/nonexistent/m.json")),
                 false_positives=FalsePositives(Path("/nonexistent/f.json")))
    assert secret not in r.redact(text)
    assert secret not in r.redact_name(text.replace("\n", " "))


octet = st.integers(0, 255)


@settings(max_examples=100, deadline=None, database=None)
@given(nets=st.lists(st.tuples(st.integers(1, 126), octet, octet), min_size=1, max_size=6),
       hosts=st.lists(st.integers(1, 254), min_size=1, max_size=6))
def test_ip_mapping_consistent_and_reversible(nets: list[tuple[int, int, int]],
                                              hosts: list[int]) -> None:
    addrs = [f"{a}.{b}.{c}.{d}" for (a, b, c) in nets for d in hosts]
    text = " ".join(addrs)
    tm = TokenMap(Path("/nonexistent/m.json"))
    fp = FalsePositives(Path("/nonexistent/f.json"))
    opts = RedactOptions(obfuscate=frozenset({"ip"}))
    out1 = Redactor(opts, token_map=tm, false_positives=fp).redact(text)
    out2 = Redactor(opts, token_map=tm, false_positives=fp).redact(" ".join(reversed(addrs)))
    assert out2.split() == list(reversed(out1.split()))
    mapped = out1.split()
    for x, y in zip(addrs, mapped, strict=True):
        for x2, y2 in zip(addrs, mapped, strict=True):
            assert (x.rsplit(".", 1)[0] == x2.rsplit(".", 1)[0]) == \
                   (y.rsplit(".", 1)[0] == y2.rsplit(".", 1)[0])
    assert tm.unredact(out1) == text


# --- regressions of the faster engine --------------------------------------------------------


@pytest.mark.parametrize("text", [
    ":0: db_passwd: 2222222222",  # a harmless "key: value" right before must not hide it
    "a=b password=Hunter22 c",
    "x: y\n  password: pw-after-plain-yaml\n",
    "note: password=kv-after-yaml-key",
])
def test_secret_after_harmless_key_value(text: str) -> None:
    secret = re.split(r"[=:] ?", text.strip().splitlines()[-1])[-1].split()[0]
    out = make().redact(text)
    assert secret not in out, out


def test_token_rules_keep_word_boundaries() -> None:
    r = make()
    key = "AKIAIOSFODNN7EXAMPLE"
    gh = "ghp_" + "a1" * 18
    assert r.redact(f"x{key}") == f"x{key}"  # glued to a word: not a key id
    assert r.redact(f"xx{gh}") == f"xx{gh}"
    assert "[REDACTED:aws_access_key_id]" in r.redact(f"id={key[:0]} ({key})")
    assert "[REDACTED:github_token]" in r.redact(f"({gh})")


def test_many_lines_match_one_pass_per_line(tmp_path: Path) -> None:
    """Secrets on far-apart lines, several rules on one line, in one big text: all masked, and
    the result is the same as redacting each line on its own."""
    lines = [f"line {i} nothing here" for i in range(3000)]
    lines[5] = "Authorization: Bearer abcdefgh12345 password=pw5555 ghp_" + "z9" * 18
    lines[1500] = "mysql -u root -pMysql1500 --password=pw1500 db"
    lines[2999] = "postgres://u:Pg2999pass@h/db token=" + "q" * 40
    r = make()
    out = r.redact("\n".join(lines)).split("\n")
    assert out == [make().redact(x) for x in lines]
    joined = "\n".join(out)
    for s in ("abcdefgh12345", "pw5555", "z9z9", "Mysql1500", "pw1500", "Pg2999pass", "qqqq"):
        assert s not in joined, s


@pytest.mark.parametrize("text", ["paſſword=Fold3dPw1", "ſecret: Fold3dPw1", "PASSWORD=Fold3dPw1",
                                  "İ x pasſword=Fold3dPw1"])
def test_case_folded_trigger_words(text: str) -> None:
    """re's IGNORECASE matches ſ to s and ı to i: the trigger search must find those lines too."""
    assert "Fold3dPw1" not in make().redact(text)


@pytest.mark.parametrize("text", [
    "health check passed, password=Late1Secret",  # an earlier "pass" that ends no key word
    "keyerror in keyring; secret_key=Late1Secret",
    "private_key_id: Late1Secret",
    "signature=Late1Secret",
    "credentials: Late1Secret",
    "passcode=Late1Secret",
    "bypassed --passwd Late1Secret",
    "keys token " + "Late1Secret" * 3,
])
def test_trigger_word_after_a_longer_word(text: str) -> None:
    out = make().redact(text)
    assert "Late1Secret" not in out, out


# --- the candidate-line filter finds every match ----------------------------------------------

_WORDS = ["password", "passed", "passwd", "pass", "pw", "pwd", "key", "keyerror", "secret_key",
          "api-key", "private_key_id", "signature", "sig", "credentials", "token", "auth",
          "cookie", "session_id", "user", "for user", "invalid user", "login", "/home/", "uid=1000(",
          "for", "from", "10.1.2.3", "1.200.200.200", "1.2.3", "::1", "2001:db8::5",
          "aa:bb:cc:dd:ee:ff", "00-11-22-33-44-55", "web1.acme.com", "com.example.svc", "x.COM",
          "bob@acme.com", "host", "rhost", "server", "node", "ſ", "İ", "K", "ı", "x", "db1",
          "Mar  1 09:00:00 ", "2024-03-01T08:00:00Z ", "y" * 33, "eyJhbGciOiJ.eyJzdWIi.sig",
          "mysql -pX", "sshpass -p X", "Bearer abcdefgh123", "Authorization", "://u:p@h",
          "ghp_" + "a" * 30, "AKIA" + "B" * 16, "?sig=abc",
          # the rules of issue 12: key words, prefixes, values on the next line
          '"password":', "login", "machine", "curl -u", "glpat-" + "c" * 20, "whsec_" + "d" * 24,
          "sk-" + "e" * 24, "hooks.slack.com/services/T0/B0/" + "f" * 12, "identified by",
          "<password>", "</password>", 'key="DbPassword"', "value=", "|", "pw", "token",
          "SG." + "g" * 22 + "." + "h" * 43, "12345678:AA" + "i" * 33, "echo", "| sudo -S",
          "$6$" + "j" * 12, '"d"', "Hunter2x", "docker login -p", "netrc", "conn", "a/b@c"]
_SEPS = [" ", "  ", "=", ":", ": ", "-", "--", " --", "- ", "'", '"', "\\\"", "\t", "", ".", "_", "@",
         "\n", "\n"]


@settings(max_examples=1000, deadline=None, database=None)
@given(pieces=st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(_SEPS)), max_size=30))
@example(pieces=[("passed", " "), ("password", "="), ("x", "\n"), ("db1", " "), ("pw", ": ")])
@example(pieces=[("keyerror", " "), ("secret_key", ":"), ("x", " "), ("for user", " "), ("db1", "")])
@example(pieces=[("1.200.200.200", ""), ("x", " "), ("rhost", "="), ("db1", " --"), ("token", " ")])
def test_candidate_lines_find_what_every_line_would(pieces: list[tuple[str, str]]) -> None:
    """Each rule searching only its candidate spans finds the same matches as each rule
    searching every whole line: the trigger words, finders and cheap checks drop no match."""
    from diagkit.reports import redact as mod

    text = "".join(w + s for w, s in pieces)
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    every = [(s, text.find("\n", s) if text.find("\n", s) >= 0 else len(text)) for s in starts]
    # a rule whose matches end on the next line searches each line with the one after it
    pairs = [(s, every[k + 1][1] if k + 1 < len(every) else e) for k, (s, e) in enumerate(every)]
    obf = Redactor(ALL, token_map=TokenMap(Path("/nonexistent/m.json")),
                   false_positives=FalsePositives(Path("/nonexistent/f.json")))._obf_rules
    assert obf is not None
    for rules in (mod._SECRET_COMPILED, obf):
        spans = mod._candidate_lines(text, rules)
        full = [s if s is None or r.first_line else pairs if r.next_line else every
                for r, s in zip(rules, spans, strict=True)]
        got = [(k, m.span()) for k, m in mod._scan(text, rules, spans)]
        want = [(k, m.span()) for k, m in mod._scan(text, rules, full)]
        assert got == want
