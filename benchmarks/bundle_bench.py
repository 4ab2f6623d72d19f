"""Redaction throughput (and bundle build time) on ~200 MB of mixed logs. Run by hand:

    python benchmarks/bundle_bench.py [--size-mb 200] [--keep]

Generates (seeded) a file of mixed logs under benchmarks/data/ (syslog, nginx access, JSON app
logs, Python/Java style app logs from tests/logs/labelled.py) with secrets planted in ~2 % of the
lines (the older families and those of issue 12: whsec_, Slack/Discord webhooks, curl -u, .netrc,
JDBC Oracle, XML, glpat-, sk-proj-, SG., IDENTIFIED BY, "(pw ...)", OpenSSH and PuTTY keys, a JSON
password on the line after its key ...), then prints, all measured in this one run on the same file:
  * diagkit secrets-only redaction (the always-on default) in MB/s, and ``sed -E`` applying
    equivalent patterns (one ``s///g`` expression, range address or ``N`` command per secret
    rule of diagkit.reports.redact)                              (target: at least 1.5x faster)
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
    # the families and syntaxes of issue 12
    "STRIPE_WEBHOOK_SECRET=whsec_{n:0>32}", "POST https://hooks.slack.com/services/T0{n:0>8}/B0A1B2C3D4/Wh{n:0>22}",
    "+ curl -sf -u deploy:Cu{n}pass https://nexus.acme.com/x", "machine files.acme.com login bob password Nr{n}pass",
    "url=jdbc:oracle:thin:scott/Or{n}pass@//ora1:1521/ORCL", '<add key="DbPassword" value="Xa{n}pass" />',
    "<password>Xe{n}pass</password>", "GITLAB_TOKEN=glpat-{n:0>20}", "key sk-proj-{n:0>48}",
    "SENDGRID_API_KEY=SG.{n:0>22}.{n:0>43}", "CREATE USER 'app'@'%' IDENTIFIED BY 'Id{n}pass';",
    "Accepted password for bob from 10.9.8.7 port 22 ssh2 (pw Fr{n}Pass)",
    "HF_TOKEN=hf_{n:A>34}", "NPM_TOKEN=npm_{n:0>36}", "DIGITALOCEAN_TOKEN=dop_v1_{n:0>64}",
    "bot https://api.telegram.org/bot12{n:0>7}:AA{n:0>33}/sendMessage",
    "https://discord.com/api/webhooks/1{n:0>18}/Dw{n:0>66}", "docker login -u ci -p Dk{n}pass reg.acme.com",
]

# sed -E equivalents (ERE has no lazy quantifiers or look-arounds: close enough, and a bit less
# work than ours). Key blocks use sed's range addresses, values on the next line sed's N.
SED_SECRETS = [
    r"/-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----/,/-----END [A-Z ]*PRIVATE KEY( BLOCK)?-----/c [REDACTED:private_key]",
    r"/---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----/,/---- END SSH2 ENCRYPTED PRIVATE KEY ----/c [REDACTED:private_key]",
    r"/Private-Lines: /,/Private-(MAC|Hash):/c [REDACTED:private_key]",
    r"/^[ \t]*[A-Za-z0-9+\/=]{60,76}$/c [REDACTED:private_key]",
    r"s/((proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?((bearer|basic|digest|token|negotiate|ntlm|sharedkey)[ \t]+)?)[^\"'\r]+/\1[REDACTED:authorization]/gI",
    r"s/((set-)?cookie[\"']?[ \t]*[:=][ \t]*[\"']?)[^\"'\r]+/\1[REDACTED:cookie]/gI",
    r"s#([a-z][a-z0-9+.-]*://[^ :/@?]*:)[^ /?]+@#\1[REDACTED:url_credentials]@#gI",
    r"s#(jdbc:oracle:[a-z0-9]+:[\"']?[A-Za-z0-9_$\#.-]+/)[^ @/\"']+@#\1[REDACTED:password]@#gI",
    r"s/(--?[a-z-]*(password|passwd|pass|token|secret|api-?key|access-?key|secret-?key|auth-?token)[ \t]+)[^ \t\"'-][^ \t\"']*/\1[REDACTED:command_line_password]/gI",
    r"s/(sshpass.*[ \t]-p[ \t]*)[^ \t]+/\1[REDACTED:command_line_password]/gI",
    r"s/((mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)[^-]* -p)[^ \t]+/\1[REDACTED:command_line_password]/gI",
    r"s/(((docker|podman|nerdctl|buildah|skopeo|helm|oras)\b.*\blogin\b.*[ \t]-p|redis-cli.*[ \t]-a|ldap[a-z]*\b.*[ \t]-w|(cqlsh|mongo|mongosh|mongodump)\b.*[ \t]-p|az login.*[ \t]-p|snmp[a-z]*\b.*[ \t]-[cAX])[ \t]*)[^ \t-][^ \t]*/\1[REDACTED:command_line_password]/g",
    r"s/(\bcurl\b.*[ \t](-u|-U|--user|--proxy-user)([ \t]+|=)?[\"']?[^ :\"']*:)[^ \"']+/\1[REDACTED:basic_auth]/gI",
    r"s/(\blftp\b.*[ \t]-u[ \t]+[\"']?[^ ,\"']*,)[^ \"']+/\1[REDACTED:command_line_password]/gI",
    r"s/(\b(smbclient|rpcclient|smbmap|smbget|smbcacls)\b.*[ \t](-U|--user)[ \t=]*[\"']?[^ %\"']*%)[^ \"']+/\1[REDACTED:command_line_password]/gI",
    r"s/(\bnet (use\b.*[ \t]\\\\[^ ]+|user[ \t]+[^ \/\"]+)[ \t]+)[^ \/*\"][^ ]*/\1[REDACTED:command_line_password]/gI",
    r"s#(\b(sqlplus|expdp|impdp|sqlldr)\b([ \t]+-[a-z]+)*[ \t]+[\"']?[A-Za-z0-9_$\#.-]+/)[^ @/\"']+#\1[REDACTED:password]#gI",
    r"s#(\buserid[ \t]*=[ \t]*[\"']?[A-Za-z0-9_$\#.-]+/)[^ @/\"',]+#\1[REDACTED:password]#gI",
    r"s#^([ \t]*conn(ect)?[ \t]+[A-Za-z0-9_$\#.-]+/)[^ @/;]+#\1[REDACTED:password]#I",
    r"s/(\baws configure set[ \t]+[A-Za-z0-9_.-]*(secret|token|key)[A-Za-z0-9_.-]*[ \t]+)[^ \t]+/\1[REDACTED:secret]/gI",
    r"s/(\b(echo|printf)[ \t]+(-[a-z]+[ \t]+)?)(\"[^\"]*\"|'[^']*'|[^ |;]+)([ \t]*\|[ \t]*(sudo[ \t]+.*-[a-z]*S\b|(sudo[ \t]+)?chpasswd\b|(sudo[ \t]+)?passwd[ \t]+--stdin))/\1[REDACTED:password]\5/gI",
    r"s/(\bhtpasswd\b[ \t]+-[a-zA-Z]*b.*[ \t])[^ ]+[ \t]*$/\1[REDACTED:password]/I",
    r"s/(\b(machine|login)\b([ \t]+[^ ]+)*[ \t]+password[ \t]+)[^ =:][^ ]*/\1[REDACTED:password]/gI",
    r"/\blogin[ \t]+[^ ]+[ \t]*$/I{N;s/(\n[ \t]*password[ \t]+)[^ ]+/\1[REDACTED:password]/I}",
    r"s/(\bidentified[ \t]+(with[ \t]+['\"]?[a-z_0-9]+['\"]?[ \t]+)?(by|as)([ \t]+password)?[ \t]+)('[^']*'|\"[^\"]*\"|[^ ;,)'\"]+)/\1[REDACTED:password]/gI",
    r"s/(\bpassword[ \t]*(\([ \t]*)?)'[^']+'/\1'[REDACTED:password]'/gI",
    r"s/(\b(requirepass|masterauth)[ \t]+)[^ ]+/\1[REDACTED:password]/gI",
    r"s/(\br[ow]community6?[ \t]+)[^ ]+/\1[REDACTED:password]/gI",
    r"s/(\b(key|name)=[\"'][^\"']*(password|passwd|secret|token|key|pwd|credential)[\"'][^>]*\bvalue[ \t]*=[ \t]*\")[^\"]*/\1[REDACTED:password]/gI",
    r"s/(\b(key|name)=[\"'][^\"']*(password|passwd|secret|token|key|pwd|credential)[\"'][^>]*>)[^<]+</\1[REDACTED:password]</gI",
    r"s/(convertto-securestring[ \t]+(-string[ \t]+)?\")[^\"]*/\1[REDACTED:password]/gI",
    r"s/(<[A-Za-z0-9_.-]*(password|passwd|secret|token|api[_-]?key|pwd|credentials?)( [^>]*)?>)[^<]+</\1[REDACTED:password]</gI",
    r"/\"[A-Za-z0-9_.-]*(password|passwd|secret|token|api[_-]?key|pwd|credentials?)\"[ \t]*:[ \t]*$/I{N;s/(\n[ \t]*)\"[^\"]*\"/\1\"[REDACTED:password]\"/}",
    r"/<[A-Za-z0-9_.-]*(password|passwd|secret|token|pwd)( [^>]*)?>[ \t]*$/I{N;s/(\n[ \t]*<value>)[^<]+/\1[REDACTED:password]/I}",
    r"/^[ \t]*(- )?[A-Za-z0-9_.-]*(password|passwd|secret|token|api[_-]?key|pwd)[ \t]*:[ \t]*[|>][-+]?[ \t]*$/I{N;s/(\n[ \t]+)[^ ].*/\1[REDACTED:password]/}",
    r"s/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){0,2}/[REDACTED:jwt]/g",
    r"s/eyJhdXRocyI6[A-Za-z0-9+\/=]{20,}/[REDACTED:docker_config]/g",
    r"s/(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/[REDACTED:github_token]/g",
    r"s/(gl(pat|dt|rt|ptt|ft|imt|cbt|soat|oas|agent|ffct|wt)-|GR1348941)[A-Za-z0-9_-]{20,}(\.[A-Za-z0-9_-]+)*/[REDACTED:gitlab_token]/g",
    r"s/(ATBB|ATATT3|ATCTT3|ATOA)[A-Za-z0-9_=.+\/-]{24,}/[REDACTED:atlassian_token]/g",
    r"s/(xox[abposre]-[A-Za-z0-9-]{10,}|xoxe\.xox[bp]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,})/[REDACTED:slack_token]/g",
    r"s#(hooks\.slack\.com/)(services|workflows|triggers)/[A-Za-z0-9_/+-]{10,}#\1[REDACTED:slack_webhook]#gI",
    r"s#(discord(app)?\.com/api/(v[0-9]+/)?webhooks/)[0-9]+/[A-Za-z0-9_-]{20,}#\1[REDACTED:discord_webhook]#gI",
    r"s#(\.webhook\.office\.com/webhookb2/|outlook\.office(365)?\.com/webhook(b2)?/)[^ \"'<>]+#\1[REDACTED:teams_webhook]#gI",
    r"s/[0-9]{6,12}:AA[A-Za-z0-9_-]{30,40}/[REDACTED:telegram_bot_token]/g",
    r"s/([rs]k_(live|test|prod)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+\/=]{20,})/[REDACTED:stripe_key]/g",
    r"s/(sq0(atp|csp|idp)-[A-Za-z0-9_-]{20,}|EAAA[A-Za-z0-9_-]{40,})/[REDACTED:square_token]/g",
    r"s/access_token\$(production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}/[REDACTED:braintree_token]/g",
    r"s/SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,50}/[REDACTED:sendgrid_key]/g",
    r"s/key-[0-9a-f]{32}/[REDACTED:mailgun_key]/g",
    r"s/[0-9a-f]{32}-us[0-9]{1,2}/[REDACTED:mailchimp_key]/g",
    r"s/sk-((proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{20,}/[REDACTED:openai_key]/g",
    r"s/(hf_|api_org_)[A-Za-z0-9]{30,}/[REDACTED:huggingface_token]/g",
    r"s/(r8_[A-Za-z0-9]{30,}|gsk_[A-Za-z0-9]{40,}|pplx-[A-Za-z0-9]{40,}|xai-[A-Za-z0-9]{40,})/[REDACTED:ai_api_key]/g",
    r"s/npm_[A-Za-z0-9]{36}/[REDACTED:npm_token]/g",
    r"s/pypi-AgE[A-Za-z0-9_-]{50,}/[REDACTED:pypi_token]/g",
    r"s/rubygems_[a-f0-9]{48}/[REDACTED:rubygems_key]/g",
    r"s/dckr_(pat|oat)_[A-Za-z0-9_-]{20,}/[REDACTED:docker_token]/g",
    r"s/(AKCp[A-Za-z0-9]{60,}|cmVmdGtu[A-Za-z0-9]{50,})/[REDACTED:artifactory_key]/g",
    r"s/do[opr]_v1_[a-f0-9]{64}/[REDACTED:digitalocean_token]/g",
    r"s/LTAI[A-Za-z0-9]{12,24}/[REDACTED:alibaba_access_key_id]/g",
    r"s/(GOCSPX-[A-Za-z0-9_-]{24,}|ya29\.[A-Za-z0-9_-]{20,})/[REDACTED:gcp_token]/g",
    r"s/[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}/[REDACTED:azure_client_secret]/g",
    r"s/HRKU-[A-Za-z0-9_-]{30,}/[REDACTED:heroku_api_key]/g",
    r"s/hv[sbr]\.[A-Za-z0-9_-]{24,}/[REDACTED:vault_token]/g",
    r"s/[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}/[REDACTED:terraform_token]/g",
    r"s/dapi[a-f0-9]{32}/[REDACTED:databricks_token]/g",
    r"s/shp(at|ca|pa|ss)_[a-fA-F0-9]{32}/[REDACTED:shopify_token]/g",
    r"s/(sntry[su]_[A-Za-z0-9+\/=_]{40,}|glc_[A-Za-z0-9+\/]{32,}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_-]{32}|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|lin_api_[A-Za-z0-9]{40}|dp\.(pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}|pul-[a-f0-9]{40}|dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}|pscale_(tkn|oauth|pw)_[A-Za-z0-9_=.-]{32,}|AGE-SECRET-KEY-1[0-9A-Z]{58}|ops_eyJ[A-Za-z0-9+\/]{100,}={0,3}|ntn_[0-9]{11}[A-Za-z0-9]{35}|pnu_[A-Za-z0-9]{36}|rdme_[a-z0-9]{70}|sha256~[A-Za-z0-9_-]{43}|tfp_[A-Za-z0-9_.=-]{59}|EZ[AT]K[A-Za-z0-9]{54}|FLWSECK(_TEST)?-[a-f0-9]{32}-X|shippo_(live|test)_[a-f0-9]{40}|CLOJARS_[a-z0-9]{60}|xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})/[REDACTED:api_token]/g",
    r"s/AIza[0-9A-Za-z_-]{35}/[REDACTED:google_api_key]/g",
    r"s#A(KIA|SIA)[A-Z0-9]{16}[,;| \t]+[\"']?[A-Za-z0-9/+]{40}#[REDACTED:aws_access_key_id],[REDACTED:aws_secret_key]#g",
    r"s/A(KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA|BIA|CCA|3T[A-Z0-9])[A-Z0-9]{16}/[REDACTED:aws_access_key_id]/g",
    r"s/([?&]sig=)[^& \"']+/\1[REDACTED:azure_sas]/gI",
    r"s#LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}={0,2}#[REDACTED:private_key]#g",
    r"s/(\"(d|p|q|dp|dq|qi)\"[ \t]*:[ \t]*\")[A-Za-z0-9_-]{20,}/\1[REDACTED:private_key]/g",
    r"s/\$(1|2[abxy]|5|6|7|y|gy|apr1|argon2(id|i|d)|sha1)\$[^ :'\",;]{8,}/[REDACTED:password_hash]/g",
    r"s#((token|key|secret|password|passphrase)[ \t]+((is|was)[ \t]+)?)[A-Za-z0-9+/_-]{32,}={0,2}#\1[REDACTED:generic_secret]#gI",
    r"s/(([A-Za-z0-9_.-]*(password|passwd|passphrase|passcode|secret|token|api[_-]?key|access[_-]?key|private[_-]?key(_?id)?|secret[_-]?key|account[_-]?key|shared[_-]?access[_-]?key|credentials?|cookie|session[_-]?id|signature|(auth|master|encryption|signing|subscription|functions|client|app|consumer|license)[_-]?key|client[_-]?key[_-]?data))[\"']?[ \t]*(=>|=|:)[ \t]*)(\"[^\"]*\"|'[^']*'|[^ \t\"'&;,<>]+)/\1[REDACTED:secret]/gI",
    r"s/(([A-Za-z0-9_.-]*[_.-])?(pass|pwd|pw|auth|psk|pat)[\"']?[ \t]*(=>|=|:)[ \t]*)(\"[^\"]*\"|'[^']*'|[^ \t\"'&;,<>]+)/\1[REDACTED:password]/gI",
    r"s/(bearer[ \t]+)[A-Za-z0-9._~+\/-]{8,}=*/\1[REDACTED:bearer]/gI",
    r"s/((^|[^A-Za-z0-9_.\/-])(password|passwd|passphrase|passcode|pass|pwd|pw|secret|token)[ \t]+((is|was)[ \t]+)?)[^ \t=:([]*[0-9][^ \t)]*/\1[REDACTED:password]/gI",
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


_PLANTED_SHAPES = re.compile(r"Js\d+pass|AAAAIPu\d+|Hunter2\d+|S3cret\d+|pw\d+x|tok\d+abcdefgh|Pg\d+pass|My\d+pass|"
                             r"Ado\d+pw|K\d+apikey|(?:Cu|Nr|Or|Xa|Xe|Id|Dk)\d+pass|Fr\d+Pass|"
                             r"whsec_\d+|glpat-\d+|sk-proj-\d+|SG\.\d+|B0A1B2C3D4/Wh\d+|"
                             r"dop_v1_\d+|npm_\d+|Dw\d+")


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
    putty_block = ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k{n}\n"
                   "Public-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIOx{n:0>30}\nAAAAC3NzaC1lZDI1\n"
                   "Private-Lines: 1\nAAAAIPu{n:0>40}\nPrivate-MAC: {n:0>64}")
    json_next = '{{\n  "user": "svc",\n  "password":\n    "Js{n}pass"\n}}'
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
                lines.append(putty_block.format(n=n))
                lines.append(json_next.format(n=n))
            chunk = "\n".join(lines) + "\n"
            out.write(chunk)
            written += len(chunk)
    tmp.replace(path)
    for k in range(1, n + 1, 97):  # a sample of the planted values
        planted.extend(v for v in (f"Hunter2{k}", f"S3cret{k}", f"pw{k}x", f"tok{k}abcdefgh",
                                   f"Pg{k}pass", f"My{k}pass", f"Ado{k}pw", f"K{k}apikey",
                                   f"Cu{k}pass", f"Nr{k}pass", f"Or{k}pass", f"Xa{k}pass",
                                   f"Xe{k}pass", f"Id{k}pass", f"Dk{k}pass", f"Fr{k}Pass",
                                   f"whsec_{k:0>32}", f"glpat-{k:0>20}", f"sk-proj-{k:0>48}",
                                   f"SG.{k:0>22}", f"Wh{k:0>22}", f"dop_v1_{k:0>64}",
                                   f"npm_{k:0>36}", f"Dw{k:0>66}", f"Js{k}pass",
                                   f"AAAAIPu{k:0>40}"))
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
