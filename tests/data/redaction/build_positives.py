"""Writes positives.json: the labelled secrets of the redaction corpus. Run by hand when the
corpus changes (``python tests/data/redaction/build_positives.py``); the tests and
benchmarks/redaction_eval.py read the JSON, never this script.

Each entry: ``family`` (what kind of credential: "vcs/gitlab", "database/jdbc-oracle" ...),
``syntax`` (where it sits: env file, shell history, XML, JSON on one or several lines, YAML,
INI, .netrc, URL, command line, log line ...), ``text`` (one line or a multi-line snippet) and
``secrets``: the exact values that must not survive redaction.

The families follow the rule lists the widely used scanners publish (gitleaks'
config/gitleaks.toml, detect-secrets' plugins, trufflehog's detectors) plus every syntax that
issue 12 saw leak. Values are fake but shaped like real ones (prefix, length, alphabet; no
checksums), drawn from a seeded generator so the file is stable.
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

RND = random.Random(12)
UP = string.ascii_uppercase + string.digits
AN = string.ascii_letters + string.digits
LOW = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = AN + "+/"
URL = AN + "-_"


def r(alphabet: str, n: int) -> str:
    return "".join(RND.choice(alphabet) for _ in range(n))


def pw(n: int = 12) -> str:
    """A password as people make them: letters, digits and a symbol."""
    core = r(string.ascii_letters, n - 3) + r(string.digits, 2) + RND.choice("!#%*+-_.")
    return "".join(RND.sample(core, len(core)))


def uuid() -> str:
    return f"{r(HEX, 8)}-{r(HEX, 4)}-4{r(HEX, 3)}-a{r(HEX, 3)}-{r(HEX, 12)}"


def b64lines(prefix: str, n_lines: int, width: int = 64, last: int = 40) -> list[str]:
    body = prefix + r(B64, width * n_lines)
    lines = [body[i : i + width] for i in range(0, width * (n_lines - 1), width)]
    lines.append(r(B64, last - 2) + "==")
    return lines


E: list[dict[str, object]] = []


def add(family: str, syntax: str, text: str, *secrets: str) -> None:
    assert secrets and all(s and s in text for s in secrets), (family, text)
    E.append({"family": family, "syntax": syntax, "text": text, "secrets": list(secrets)})


def main() -> None:
    # --- cloud: AWS ---------------------------------------------------------------------------
    akid, sak = "AKIA" + r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), r(B64, 40)
    asia, stok = (
        "ASIA" + r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
        "IQoJb3JpZ2luX2VjE" + r(B64, 180),
    )
    add("cloud/aws", "env", f"AWS_ACCESS_KEY_ID={akid}", akid)
    add("cloud/aws", "env", f"export AWS_SECRET_ACCESS_KEY={sak}", sak)
    add(
        "cloud/aws",
        "ini",
        f"[default]\naws_access_key_id = {akid}\naws_secret_access_key = {sak}\n"
        f"aws_session_token = {stok}\nregion = eu-west-1",
        akid,
        sak,
        stok,
    )
    add("cloud/aws", "shell history", f"aws configure set aws_secret_access_key {sak}", sak)
    add(
        "cloud/aws",
        "csv",
        "User name,Password,Access key ID,Secret access key,Console login link\n"
        f"deploy-bot,,{akid},{sak},https://123456789012.signin.aws.amazon.com/console",
        akid,
        sak,
    )
    add(
        "cloud/aws",
        "json multi-line",
        '{\n  "Credentials": {\n'
        f'    "AccessKeyId": "{asia}",\n    "SecretAccessKey": "{sak}",\n'
        f'    "SessionToken": "{stok}",\n    "Expiration": "2024-06-01T12:00:00Z"\n  }}\n}}',
        asia,
        sak,
        stok,
    )
    add(
        "cloud/aws", "yaml", f"aws:\n  access_key_id: {akid}\n  secret_access_key: {sak}", akid, sak
    )
    add(
        "cloud/aws",
        "log line",
        f"2024-05-02 10:11:12,345 botocore.credentials INFO using static credentials {akid} {sak}",
        akid,
        sak,
    )
    a3t = "A3T" + r(UP, 17)
    add("cloud/aws", "log line", f"found key id {a3t} in build cache", a3t)

    # --- cloud: GCP ---------------------------------------------------------------------------
    kid = r(HEX, 40)
    gkey = b64lines("MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC", 6)
    add(
        "cloud/gcp",
        "json multi-line (service account)",
        '{\n  "type": "service_account",\n  "project_id": "acme-prod-4711",\n'
        f'  "private_key_id": "{kid}",\n'
        '  "private_key": "-----BEGIN PRIVATE KEY-----\\n'
        + "\\n".join(gkey)
        + '\\n-----END PRIVATE KEY-----\\n",\n'
        '  "client_email": "deployer@acme-prod-4711.iam.gserviceaccount.com"\n}',
        kid,
        *gkey,
    )
    gapi = "AIza" + r(URL, 35)
    add("cloud/gcp", "env", f"GOOGLE_API_KEY={gapi}", gapi)
    add(
        "cloud/gcp",
        "url",
        f"GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key={gapi}",
        gapi,
    )
    gcs = "GOCSPX-" + r(URL, 28)
    add(
        "cloud/gcp",
        "json one-line",
        '{"installed":{"client_id":"1234-abc.apps.googleusercontent.com",'
        f'"client_secret":"{gcs}","redirect_uris":["http://localhost"]}}}}',
        gcs,
    )
    ya = "ya29.a0" + r(URL, 150)
    add(
        "cloud/gcp",
        "log line",
        f"DEBUG google.auth refreshed access token {ya} expires in 3599s",
        ya,
    )
    rt = "1//0" + r(URL, 99)
    add("cloud/gcp", "json one-line", f'{{"refresh_token": "{rt}", "scope": "cloud-platform"}}', rt)

    # --- cloud: Azure -------------------------------------------------------------------------
    ak = r(B64, 86) + "=="
    add(
        "cloud/azure",
        "connection string",
        "DefaultEndpointsProtocol=https;AccountName=acmelogs;"
        f"AccountKey={ak};EndpointSuffix=core.windows.net",
        ak,
    )
    sig = r(AN, 40) + "%2B" + r(AN, 3) + "%3D"
    add(
        "cloud/azure",
        "url (SAS)",
        "https://acmelogs.blob.core.windows.net/backups/db.bak?sv=2022-11-02"
        f"&ss=b&srt=o&sp=r&se=2025-01-01T00:00:00Z&spr=https&sig={sig}",
        sig,
    )
    sbk = r(B64, 43) + "="
    add(
        "cloud/azure",
        "connection string",
        "Endpoint=sb://acme-bus.servicebus.windows.net/;"
        f"SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={sbk}",
        sbk,
    )
    acs = r(AN, 3) + "8Q~" + r(AN + "~._-", 34)
    add("cloud/azure", "env", f"AZURE_CLIENT_SECRET={acs}", acs)
    add("cloud/azure", "log line", f"az ad sp credential reset returned secret {acs} for app", acs)
    cos = r(B64, 86) + "=="
    add(
        "cloud/azure",
        "connection string",
        f"AccountEndpoint=https://acme.documents.azure.com:443/;AccountKey={cos};",
        cos,
    )
    fk = r(URL, 54) + "=="
    add("cloud/azure", "http header", f"x-functions-key: {fk}", fk)
    dvp = r("abcdefghijklmnopqrstuvwxyz234567", 52)
    add("cloud/azure", "env", f"AZURE_DEVOPS_EXT_PAT={dvp}", dvp)

    # --- cloud: others ------------------------------------------------------------------------
    dop = "dop_v1_" + r(HEX, 64)
    add("cloud/digitalocean", "env", f"DIGITALOCEAN_ACCESS_TOKEN={dop}", dop)
    add("cloud/digitalocean", "shell history", f"doctl auth init -t {dop}", dop)
    dor = "dor_v1_" + r(HEX, 64)
    add(
        "cloud/digitalocean",
        "json one-line",
        f'{{"refresh_token":"{dor}","token_type":"bearer"}}',
        dor,
    )
    lt, lts = "LTAI" + r(AN, 20), r(AN, 30)
    add(
        "cloud/alibaba",
        "env",
        f"ALIBABA_CLOUD_ACCESS_KEY_ID={lt}\nALIBABA_CLOUD_ACCESS_KEY_SECRET={lts}",
        lt,
        lts,
    )
    add("cloud/alibaba", "log line", f"aliyun cli: using access key {lt}", lt)
    hk = "HRKU-AA" + r(URL, 58)
    add("cloud/heroku", "env", f"HEROKU_API_KEY={hk}", hk)
    hku = uuid()
    add(
        "cloud/heroku",
        "netrc",
        f"machine api.heroku.com\n  login ops@acme.com\n  password {hku}",
        hku,
    )
    ibm = r(URL, 44)
    add("cloud/ibm", "env", f"IBMCLOUD_API_KEY={ibm}", ibm)
    hvs = "hvs.CAESI" + r(URL, 90)
    add("cloud/vault", "env", f"VAULT_TOKEN={hvs}", hvs)
    add("cloud/vault", "http header", f"X-Vault-Token: {hvs}", hvs)
    tfc = r(LOW, 14) + ".atlasv1." + r(URL, 67)
    add("cloud/terraform", "hcl", f'credentials "app.terraform.io" {{\n  token = "{tfc}"\n}}', tfc)
    dapi = "dapi" + r(HEX, 32)
    add("cloud/databricks", "log line", f"databricks-cli configured with token {dapi}", dapi)
    cft = r(URL, 40)
    add("cloud/cloudflare", "env", f"CLOUDFLARE_API_TOKEN={cft}", cft)
    cfk = r(HEX, 37)
    add(
        "cloud/cloudflare",
        "shell history",
        f'curl -H "X-Auth-Email: ops@acme.com" -H "X-Auth-Key: {cfk}" '
        "https://api.cloudflare.com/client/v4/zones",
        cfk,
    )

    # --- VCS ----------------------------------------------------------------------------------
    for pre, syn, fmt in (
        ("ghp_", "env", "GITHUB_TOKEN={t}"),
        ("gho_", "json one-line", '{{"oauth_token": "{t}", "user": "octo"}}'),
        ("ghs_", "log line", "Using installation token {t} for acme/api"),
        ("ghu_", "yaml", "github:\n  user_token: {t}"),
        ("ghr_", "json one-line", '{{"refresh_token":"{t}"}}'),
    ):
        t = pre + r(AN, 36)
        add("vcs/github", syn, fmt.format(t=t), t)
    ghp = "ghp_" + r(AN, 36)
    add(
        "vcs/github",
        "url",
        f"git clone https://x-access-token:{ghp}@github.com/acme/infra.git",
        ghp,
    )
    fg = "github_pat_11A" + r(AN, 19) + "_" + r(AN, 59)
    add(
        "vcs/github",
        "shell history",
        f"git remote set-url origin https://{fg}@github.com/acme/api.git",
        fg,
    )
    add("vcs/github", "log line", f"[ci] exporting GH_TOKEN {fg[:93]}", fg[:93])
    glp = "glpat-" + r(URL, 20)
    add("vcs/gitlab", "env", f"GITLAB_TOKEN={glp}", glp)
    add(
        "vcs/gitlab",
        "http header",
        f'curl --header "PRIVATE-TOKEN: {glp}" https://gitlab.acme.com/api/v4/projects',
        glp,
    )
    add("vcs/gitlab", "url", f"https://oauth2:{glp}@gitlab.acme.com/ops/deploy.git", glp)
    add("vcs/gitlab", "log line", f"runner: cloning with {glp} failed: 403", glp)
    gldt = "gldt-" + r(URL, 20)
    add("vcs/gitlab", "shell history", f"docker login registry.acme.com -u deploy -p {gldt}", gldt)
    glrt = "glrt-" + r(URL, 20)
    add(
        "vcs/gitlab",
        "toml",
        f'[[runners]]\n  name = "build-01"\n  url = "https://gitlab.acme.com"\n'
        f'  token = "{glrt}"\n  executor = "docker"',
        glrt,
    )
    gr = "GR1348941" + r(URL, 20)
    add(
        "vcs/gitlab",
        "shell history",
        f"gitlab-runner register --url https://gitlab.acme.com --registration-token {gr}",
        gr,
    )
    glptt = "glptt-" + r(HEX, 40)
    add(
        "vcs/gitlab",
        "shell history",
        f"curl -X POST -F token={glptt} -F ref=main "
        "https://gitlab.acme.com/api/v4/projects/12/trigger/pipeline",
        glptt,
    )
    for pre in ("glft-", "glsoat-", "glcbt-", "glimt-"):
        t = pre + r(URL, 25)
        add("vcs/gitlab", "log line", f"auth: token {t} revoked", t)
    atbb = "ATBB" + r(AN, 32)
    add("vcs/bitbucket", "env", f"BITBUCKET_APP_PASSWORD={atbb}", atbb)
    add("vcs/bitbucket", "url", f"https://ci-bot:{atbb}@bitbucket.org/acme/web.git", atbb)
    atatt = "ATATT3xFfGF0" + r(URL, 180)
    add("vcs/bitbucket", "log line", f"jira client: basic auth with api token {atatt}", atatt)
    atctt = "ATCTT3xFfGN0" + r(URL, 170)
    add("vcs/bitbucket", "env", f"BITBUCKET_ACCESS_TOKEN={atctt}", atctt)

    # --- chat and webhooks --------------------------------------------------------------------
    xb = f"xoxb-{r(string.digits, 12)}-{r(string.digits, 13)}-{r(AN, 24)}"
    add("chat/slack", "env", f"SLACK_BOT_TOKEN={xb}", xb)
    xp = f"xoxp-{r(string.digits, 12)}-{r(string.digits, 12)}-{r(string.digits, 13)}-{r(HEX, 32)}"
    add(
        "chat/slack",
        "json one-line",
        f'{{"ok":true,"access_token":"{xp}","scope":"chat:write"}}',
        xp,
    )
    add(
        "chat/slack",
        "log line",
        f"slack_sdk.web.base_client DEBUG Sending a request with token {xp}",
        xp,
    )
    xa = f"xapp-1-A0{r(UP, 9)}-{r(string.digits, 13)}-{r(HEX, 64)}"
    add("chat/slack", "env", f"SLACK_APP_TOKEN={xa}", xa)
    xe = "xoxe.xoxp-1-" + r(AN, 164)
    add("chat/slack", "json one-line", f'{{"token": "{xe}", "exp": 43200}}', xe)
    hook = f"T0{r(UP, 8)}/B0{r(UP, 8)}/{r(AN, 24)}"
    add(
        "chat/slack",
        "shell history",
        f"curl -X POST -H 'Content-type: application/json' --data "
        f'\'{{"text":"deploy done"}}\' https://hooks.slack.com/services/{hook}',
        hook,
    )
    add(
        "chat/slack",
        "yaml",
        f"alerting:\n  slack_url: https://hooks.slack.com/services/{hook}",
        hook,
    )
    wf = f"T0{r(UP, 8)}/A0{r(UP, 8)}/{r(string.digits, 18)}/{r(AN, 24)}"
    add("chat/slack", "log line", f"notify: POST https://hooks.slack.com/workflows/{wf} -> 200", wf)
    dh = f"{r(string.digits, 19)}/{r(URL, 68)}"
    add("chat/discord", "env", f"DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/{dh}", dh)
    add(
        "chat/discord",
        "log line",
        f"webhook failed: https://discordapp.com/api/webhooks/{dh} 429",
        dh,
    )
    dbt = f"MTk4NjIy{r(AN, 16)}.{r(URL, 6)}.{r(URL, 38)}"
    add("chat/discord", "env", f"DISCORD_BOT_TOKEN={dbt}", dbt)
    add("chat/discord", "http header", f"Authorization: Bot {dbt}", dbt)
    teams = f"{uuid()}@{uuid()}/IncomingWebhook/{r(HEX, 32)}/{uuid()}/V2{r(URL, 40)}"
    add("chat/teams", "url", f"https://acme.webhook.office.com/webhookb2/{teams}", teams)
    add(
        "chat/teams",
        "json one-line",
        f'{{"teams_hook": "https://outlook.office.com/webhook/{teams}"}}',
        teams,
    )
    pa = r(URL, 43)
    add(
        "chat/teams",
        "url (power automate)",
        f"https://prod-12.westeurope.logic.azure.com:443/workflows/"
        f"{r(HEX, 32)}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual"
        f"%2Frun&sv=1.0&sig={pa}",
        pa,
    )
    tg = f"{r(string.digits, 10)}:AA{r(URL, 33)}"
    add("chat/telegram", "env", f"TELEGRAM_BOT_TOKEN={tg}", tg)
    add("chat/telegram", "url", f"POST https://api.telegram.org/bot{tg}/sendMessage 200", tg)
    add("chat/telegram", "log line", f"bot started, token {tg}", tg)
    tw = r(HEX, 32)
    add("chat/twilio", "env", f"TWILIO_AUTH_TOKEN={tw}\nTWILIO_API_KEY=SK{r(HEX, 32)}", tw)

    # --- payment ------------------------------------------------------------------------------
    sk = "sk_live_51" + r(AN, 97)
    add("payment/stripe", "env", f"STRIPE_SECRET_KEY={sk}", sk)
    rk = "rk_live_51" + r(AN, 97)
    add("payment/stripe", "json one-line", f'{{"stripe": {{"restricted_key": "{rk}"}}}}', rk)
    skt = "sk_test_" + r(AN, 24)
    add("payment/stripe", "shell history", f"curl https://api.stripe.com/v1/charges -u {skt}:", skt)
    wh = "whsec_" + r(AN, 32)
    add("payment/stripe", "env", f"STRIPE_WEBHOOK_SECRET={wh}", wh)
    add(
        "payment/stripe",
        "log line",
        f"> Ready! Your webhook signing secret is {wh} (^C to quit)",
        wh,
    )
    add("payment/stripe", "yaml", f"stripe:\n  webhook_signing: {wh}", wh)
    sq = "sq0atp-" + r(URL, 22)
    add("payment/square", "env", f"SQUARE_ACCESS_TOKEN={sq}", sq)
    sqc = "sq0csp-" + r(URL, 43)
    add("payment/square", "json one-line", f'{{"application_secret": "{sqc}"}}', sqc)
    eaaa = "EAAA" + r(URL, 60)
    add("payment/square", "log line", f"square api call with {eaaa} returned 401", eaaa)
    bt = f"access_token$production${r(LOW, 16)}${r(HEX, 32)}"
    add("payment/braintree", "properties", f"braintree.accessToken={bt}", bt)
    add("payment/braintree", "log line", f"gateway init ({bt})", bt)
    btk = r(HEX, 32)
    add("payment/braintree", "env", f"BRAINTREE_PRIVATE_KEY={btk}", btk)
    pps = "E" + r(URL, 79)
    add(
        "payment/paypal",
        "json one-line",
        f'{{"client_id": "A{r(URL, 79)}", "client_secret": "{pps}"}}',
        pps,
    )
    shp = "shpat_" + r(HEX, 32)
    add("payment/shopify", "env", f"SHOPIFY_ACCESS_TOKEN={shp}", shp)

    # --- mail ---------------------------------------------------------------------------------
    sg = f"SG.{r(URL, 22)}.{r(URL, 43)}"
    add("mail/sendgrid", "env", f"SENDGRID_API_KEY={sg}", sg)
    add("mail/sendgrid", "json one-line", f'{{"smtp": {{"user": "apikey", "pass": "{sg}"}}}}', sg)
    add("mail/sendgrid", "log line", f"mailer: sending via SendGrid with {sg}", sg)
    add(
        "mail/sendgrid",
        "http header",
        f"curl -H 'Authorization: Bearer {sg}' https://api.sendgrid.com/v3/mail/send",
        sg,
    )
    mg = "key-" + r(HEX, 32)
    add("mail/mailgun", "env", f"MAILGUN_API_KEY={mg}", mg)
    add(
        "mail/mailgun",
        "shell history",
        f"curl -s --user 'api:{mg}' https://api.mailgun.net/v3/mg.acme.com/messages",
        mg,
    )
    add("mail/mailgun", "log line", f"mailgun client init {mg}", mg)
    mc = r(HEX, 32) + "-us21"
    add("mail/mailchimp", "env", f"MAILCHIMP_API_KEY={mc}", mc)
    add("mail/mailchimp", "log line", f"mailchimp sync using {mc}", mc)
    pm = uuid()
    add("mail/postmark", "http header", f"X-Postmark-Server-Token: {pm}", pm)
    add(
        "mail/postmark",
        "json one-line",
        f'{{"ServerToken": "{pm}", "From": "noreply@acme.com"}}',
        pm,
    )
    smtp = pw()
    add("mail/smtp", "env", f"SMTP_PASSWORD={smtp}", smtp)
    xk = f"xkeysib-{r(HEX, 64)}-{r(AN, 16)}"
    add("mail/sendinblue", "env", f"BREVO_KEY={xk}", xk)

    # --- AI APIs ------------------------------------------------------------------------------
    op = "sk-proj-" + r(URL, 74) + "T3BlbkFJ" + r(URL, 74)
    add("ai/openai", "env", f"OPENAI_API_KEY={op}", op)
    add("ai/openai", "log line", f"openai client created with key {op}", op)
    ol = "sk-" + r(AN, 20) + "T3BlbkFJ" + r(AN, 20)
    add("ai/openai", "python", f'openai.api_key = "{ol}"', ol)
    osa = "sk-svcacct-" + r(URL, 74) + "T3BlbkFJ" + r(URL, 74)
    add("ai/openai", "http header", f"Authorization: Bearer {osa}", osa)
    oad = "sk-admin-" + r(URL, 58) + "T3BlbkFJ" + r(URL, 58)
    add("ai/openai", "shell history", f"export OPENAI_ADMIN_KEY='{oad}'", oad)
    an = "sk-ant-api03-" + r(URL, 93) + "AA"
    add("ai/anthropic", "env", f"ANTHROPIC_API_KEY={an}", an)
    add("ai/anthropic", "http header", f"x-api-key: {an}", an)
    add("ai/anthropic", "log line", f"anthropic: request failed for key {an}", an)
    hf = "hf_" + r(string.ascii_letters, 34)
    add("ai/huggingface", "env", f"HF_TOKEN={hf}", hf)
    add("ai/huggingface", "shell history", f"huggingface-cli login --token {hf}", hf)
    add("ai/huggingface", "url", f"git clone https://bob:{hf}@huggingface.co/acme/model", hf)
    hfo = "api_org_" + r(string.ascii_letters, 34)
    add("ai/huggingface", "log line", f"hub: org token {hfo} in use", hfo)
    co = r(AN, 40)
    add("ai/cohere", "env", f"CO_API_KEY={co}", co)
    add("ai/cohere", "yaml", f"cohere:\n  api_key: {co}", co)
    r8 = "r8_" + r(AN, 37)
    add("ai/replicate", "env", f"REPLICATE_API_TOKEN={r8}", r8)
    add("ai/replicate", "log line", f"replicate.run with {r8}", r8)
    gsk = "gsk_" + r(AN, 52)
    add("ai/groq", "log line", f"groq client key {gsk}", gsk)
    px = "pplx-" + r(AN, 48)
    add("ai/perplexity", "json one-line", f'{{"provider": "perplexity", "key": "{px}"}}', px)
    xai = "xai-" + r(AN, 80)
    add("ai/xai", "env", f"XAI_API_KEY={xai}", xai)
    ms = r(AN, 32)
    add("ai/mistral", "env", f"MISTRAL_API_KEY={ms}", ms)

    # --- package registries -------------------------------------------------------------------
    npm = "npm_" + r(AN, 36)
    add("registry/npm", "npmrc", f"//registry.npmjs.org/:_authToken={npm}", npm)
    add("registry/npm", "env", f"NPM_TOKEN={npm}", npm)
    add("registry/npm", "log line", f"npm notice Publishing with token {npm}", npm)
    npa = base64.b64encode(f"ci:{pw()}".encode()).decode()
    add(
        "registry/npm",
        "npmrc",
        f"registry=https://npm.acme.com/\n_auth={npa}\nalways-auth=true",
        npa,
    )
    pypi = "pypi-AgEIcHlwaS5vcmc" + r(URL, 160)
    add("registry/pypi", "ini (.pypirc)", f"[pypi]\nusername = __token__\npassword = {pypi}", pypi)
    add("registry/pypi", "shell history", f"twine upload -u __token__ -p {pypi} dist/*", pypi)
    add("registry/pypi", "env", f"TWINE_PASSWORD={pypi}", pypi)
    ng = "oy2" + r(LOW, 43)
    add(
        "registry/nuget",
        "shell history",
        f"dotnet nuget push pkg.1.0.0.nupkg --api-key {ng} "
        "--source https://api.nuget.org/v3/index.json",
        ng,
    )
    add("registry/nuget", "log line", f"nuget: pushing with key {ng}", ng)
    ngp = pw()
    add(
        "registry/nuget",
        "xml (nuget.config)",
        "<packageSourceCredentials>\n  <acme>\n"
        '    <add key="Username" value="build" />\n'
        f'    <add key="ClearTextPassword" value="{ngp}" />\n  </acme>\n</packageSourceCredentials>',
        ngp,
    )
    rg = "rubygems_" + r(HEX, 48)
    add("registry/rubygems", "yaml (~/.gem/credentials)", f"---\n:rubygems_api_key: {rg}", rg)
    add("registry/rubygems", "env", f"GEM_HOST_API_KEY={rg}", rg)
    dk = "dckr_pat_" + r(URL, 27)
    add(
        "registry/docker",
        "shell history",
        f"echo {dk} | docker login -u acmeci --password-stdin",
        dk,
    )
    add("registry/docker", "shell history", f"docker login -u acmeci -p {dk}", dk)
    dauth = base64.b64encode(f"acmeci:{pw()}".encode()).decode()
    add(
        "registry/docker",
        "json multi-line (config.json)",
        f'{{\n  "auths": {{\n    "registry.acme.com": {{\n      "auth": "{dauth}"\n    }}\n  }}\n}}',
        dauth,
    )
    dcj = base64.b64encode(
        ('{"auths":{"registry.acme.com":{"auth":"' + dauth + '"}}}').encode()
    ).decode()
    add(
        "registry/docker",
        "yaml (kubernetes secret)",
        "apiVersion: v1\nkind: Secret\ntype: "
        f"kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {dcj}",
        dcj,
    )
    mvp = pw()
    add(
        "registry/maven",
        "xml (settings.xml)",
        "<servers>\n  <server>\n    <id>acme-releases</id>\n"
        f"    <username>deploy</username>\n    <password>{mvp}</password>\n  </server>\n</servers>",
        mvp,
    )
    grp = pw()
    add("registry/gradle", "properties", f"ossrhUsername=acme\nossrhPassword={grp}", grp)
    akc = "AKCp" + r(AN, 69)
    add("registry/artifactory", "env", f"ARTIFACTORY_API_KEY={akc}", akc)
    add("registry/artifactory", "log line", f"jfrog rt: using apikey {akc}", akc)
    cg = "cio" + r(AN, 32)
    add("registry/cargo", "toml", f'[registry]\ntoken = "{cg}"', cg)
    hp = pw()
    add(
        "registry/helm",
        "shell history",
        f"helm repo add acme https://charts.acme.com --username ci --password {hp}",
        hp,
    )

    # --- databases ----------------------------------------------------------------------------
    p = pw()
    add(
        "database/postgres-url",
        "env",
        f"DATABASE_URL=postgres://app:{p}@db.acme.internal:5432/app",
        p,
    )
    p = pw()
    add(
        "database/postgres-url",
        "log line",
        f"connecting to postgresql://report:{p}@10.0.3.7/reports (attempt 2)",
        p,
    )
    p = pw()
    add(
        "database/mysql-url",
        "yaml",
        f"database:\n  url: mysql://root:{p}@mysql-0.mysql:3306/shop",
        p,
    )
    p = pw()
    add(
        "database/mongodb-url",
        "json one-line",
        '{"mongo": {"uri": '
        f'"mongodb+srv://admin:{p}@cluster0.ab12c.mongodb.net/prod?retryWrites=true"}}}}',
        p,
    )
    p = pw()
    add(
        "database/mongodb-url",
        "log line",
        f"MongoClient(mongodb://admin:{p}@db1:27017,db2:27017/?replicaSet=rs0)",
        p,
    )
    p = pw()
    add("database/redis-url", "env", f"REDIS_URL=redis://:{p}@cache.acme.internal:6379/0", p)
    p = pw()
    add(
        "database/redis-url",
        "ini",
        f"[cache]\nurl = rediss://default:{p}@redis-123.cloud.redislabs.com:16379",
        p,
    )
    p = pw()
    add("database/amqp-url", "env", f"CELERY_BROKER_URL=amqp://celery:{p}@rabbit:5672/vhost", p)
    p = pw()
    add(
        "database/jdbc",
        "properties",
        f"spring.datasource.url=jdbc:postgresql://db:5432/app?user=app&password={p}&ssl=true",
        p,
    )
    p = pw()
    add(
        "database/jdbc",
        "properties",
        f"db.url=jdbc:sqlserver://sql1:1433;databaseName=app;user=sa;password={p};",
        p,
    )
    p = pw()
    add(
        "database/jdbc-oracle",
        "properties",
        f"spring.datasource.url=jdbc:oracle:thin:scott/{p}@//ora1:1521/ORCLPDB1",
        p,
    )
    p = pw()
    add(
        "database/jdbc-oracle",
        "log line",
        "2024-05-02 10:00:01 ERROR HikariPool-1 - Exception during pool "
        f"initialization: jdbc:oracle:thin:app_user/{p}@db-ora.acme.local:1521:XE",
        p,
    )
    p = pw()
    add("database/oracle", "shell history", f"sqlplus system/{p}@ORCL @migrate.sql", p)
    p = pw()
    add("database/oracle", "shell history", f"expdp hr/{p} DIRECTORY=dpump DUMPFILE=hr.dmp", p)
    p = pw()
    add("database/oracle", "sql*plus", f"conn app/{p}@pdb1", p)
    p = pw()
    add(
        "database/ado",
        "connection string",
        "Server=tcp:acme.database.windows.net,1433;Initial Catalog=app;"
        f"User ID=admin;Password={p};Encrypt=True;",
        p,
    )
    p = pw()
    add(
        "database/odbc",
        "connection string",
        f"Driver={{ODBC Driver 18 for SQL Server}};Server=sql1;UID=sa;PWD={p};",
        p,
    )
    p = pw()
    add(
        "database/libpq",
        "shell history",
        f'psql "host=db user=app password={p} dbname=app sslmode=require"',
        p,
    )
    p = pw()
    add("database/libpq", "shell history", f"PGPASSWORD={p} pg_dump -h db -U app app > app.sql", p)
    p = pw()
    add("database/sql", "sql", f"CREATE USER 'app'@'%' IDENTIFIED BY '{p}';", p)
    p = pw()
    add("database/sql", "sql", f"ALTER USER app IDENTIFIED WITH mysql_native_password BY '{p}';", p)
    p = pw()
    add("database/sql", "sql", f"ALTER USER system IDENTIFIED BY {p};", p)
    p = pw()
    add("database/sql", "sql", f"CREATE ROLE reporter WITH LOGIN PASSWORD '{p}';", p)
    p = pw()
    add("database/sql", "sql", f"CREATE LOGIN app WITH PASSWORD = '{p}', CHECK_POLICY = OFF;", p)
    p = pw()
    add(
        "database/sql",
        "log line (mysql general log)",
        f"2024-05-02T10:00:00.123456Z\t   12 Query\tCREATE USER 'etl'@'10.%' IDENTIFIED BY '{p}'",
        p,
    )
    p = pw()
    add("database/sql", "sql", f"SET PASSWORD FOR 'app'@'%' = PASSWORD('{p}');", p)
    p = pw()
    add(
        "database/mongodb",
        "javascript",
        'db.createUser({user: "app", pwd: "' + p + '", roles: ["readWrite"]})',
        p,
    )
    p = pw()
    add(
        "database/redis", "conf (redis.conf)", f"bind 127.0.0.1\nrequirepass {p}\nmasterauth {p}", p
    )
    p = pw()
    add("database/redis", "shell history", f"redis-cli -h cache -p 6379 -a {p} ping", p)
    p = pw()
    add("database/mysql", "ini (my.cnf)", f'[client]\nuser=backup\npassword="{p}"', p)
    p = pw()
    add("database/mysql", "shell history", f"mysql -h db -u root -p{p} shop", p)
    p = pw()
    add(
        "database/mysql",
        "shell history",
        f"mysqldump --user=root --password={p} --all-databases",
        p,
    )
    p = pw()
    add("database/cassandra", "shell history", f"cqlsh -u cassandra -p {p} 10.0.0.5", p)
    p = pw()
    add("database/elastic", "env", f"ELASTIC_PASSWORD={p}", p)

    # --- private keys -------------------------------------------------------------------------
    def block(kind: str, prefix: str, n: int = 12, headers: str = "") -> tuple[str, list[str]]:
        body = b64lines(prefix, n)
        return (
            f"-----BEGIN {kind}-----\n{headers}" + "\n".join(body) + f"\n-----END {kind}-----",
            body,
        )

    txt, body = block("RSA PRIVATE KEY", "MIIEpAIBAAKCAQEA")
    add("private_key/pem-rsa", "file", txt, *body)
    txt, body = block("EC PRIVATE KEY", "MHcCAQEEI", 3)
    add("private_key/pem-ec", "file", txt, *body)
    txt, body = block("DSA PRIVATE KEY", "MIIBuwIBAAKBgQ", 8)
    add("private_key/pem-dsa", "file", txt, *body)
    txt, body = block("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")
    add("private_key/pem-pkcs8", "file", txt, *body)
    txt, body = block("ENCRYPTED PRIVATE KEY", "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI")
    add("private_key/pem-encrypted", "file", txt, *body)
    txt, body = block(
        "RSA PRIVATE KEY",
        "",
        12,
        f"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{r(HEX, 32).upper()}\n\n",
    )
    add("private_key/pem-encrypted", "file (legacy encrypted PEM)", txt, *body)
    osh = b64lines("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", 7, 70)
    add(
        "private_key/openssh",
        "file",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        + "\n".join(osh)
        + "\n-----END OPENSSH PRIVATE KEY-----",
        *osh,
    )
    pub = b64lines("AAAAB3NzaC1yc2EAAAADAQABAAABAQ", 6, 64)
    priv = b64lines("AAABAQC", 14, 64)
    mac = r(HEX, 40)
    add(
        "private_key/putty",
        "file (.ppk v2)",
        "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n"
        "Comment: rsa-key-20240501\nPublic-Lines: 6\n"
        + "\n".join(pub)
        + "\nPrivate-Lines: 14\n"
        + "\n".join(priv)
        + f"\nPrivate-MAC: {mac}",
        *priv,
        mac,
    )
    priv3 = b64lines("AAAAIE", 1, 64)
    add(
        "private_key/putty",
        "file (.ppk v3)",
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"
        "Comment: eddsa-key-20240501\nPublic-Lines: 2\n"
        + "\n".join(b64lines("AAAAC3NzaC1lZDI1NTE5AAAAI", 2))
        + "\nPrivate-Lines: 1\n"
        + priv3[0]
        + f"\nPrivate-MAC: {r(HEX, 64)}",
        priv3[0],
    )
    pgp = b64lines("lQdGBGY", 20, 64)
    crc = "=" + r(B64, 4)
    add(
        "private_key/pgp",
        "file",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n"
        "Comment: ops signing key\n\n"
        + "\n".join(pgp)
        + f"\n{crc}\n-----END PGP PRIVATE KEY BLOCK-----",
        *pgp,
        crc,
    )
    ssh2 = b64lines("P2/56wAAA", 10, 70)
    add(
        "private_key/ssh2",
        "file (ssh.com)",
        "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n"
        'Comment: "rsa-key-20240501"\n'
        + "\n".join(ssh2)
        + "\n---- END SSH2 ENCRYPTED PRIVATE KEY ----",
        *ssh2,
    )
    txt, body = block("RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 10)
    b64k = base64.b64encode((txt + "\n").encode()).decode()
    add("private_key/base64-pem", "env", f"SSH_PRIVATE_KEY={b64k}", b64k)
    wrapped = "\n".join(b64k[i : i + 76] for i in range(0, len(b64k), 76))
    add(
        "private_key/base64-pem",
        "file (base64 -w 76)",
        wrapped,
        *(b64k[i : i + 76] for i in range(0, len(b64k), 76)),
    )
    txt, body = block("EC PRIVATE KEY", "MHcCAQEEI", 3)
    ckd = base64.b64encode((txt + "\n").encode()).decode()
    add(
        "private_key/kubeconfig",
        "yaml (kubeconfig)",
        "users:\n- name: admin@prod\n  user:\n"
        f"    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=\n"
        f"    client-key-data: {ckd}",
        ckd,
    )
    txt, body = block("RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 25)
    lines = txt.split("\n")
    add(
        "private_key/window-start-inside",
        "log excerpt (starts inside)",
        "\n".join(lines[7:]),
        *body[6:],
    )
    add(
        "private_key/window-end-inside",
        "log excerpt (ends inside)",
        "\n".join(lines[:12]),
        *body[:11],
    )
    add(
        "private_key/window-start-inside",
        "log excerpt (PuTTY, starts inside)",
        "\n".join(priv[5:]) + f"\nPrivate-MAC: {mac}",
        *priv[5:],
    )
    txt, body = block("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 6)
    add(
        "private_key/pem-pkcs8",
        "yaml (block scalar)",
        "tls:\n  key: |\n    " + txt.replace("\n", "\n    "),
        *body,
    )
    add(
        "private_key/pem-pkcs8",
        "env (escaped newlines)",
        'PRIVATE_KEY="' + txt.replace("\n", "\\n") + '"',
        *body,
    )
    jd, jp, jq = r(URL, 342), r(URL, 171), r(URL, 171)
    add(
        "private_key/jwk",
        "json one-line",
        f'{{"kty":"RSA","n":"{r(URL, 342)}","e":"AQAB","d":"{jd}",'
        f'"p":"{jp}","q":"{jq}","dp":"{r(URL, 171)}","dq":"{r(URL, 171)}","qi":"{r(URL, 171)}"}}',
        jd,
        jp,
        jq,
    )

    # --- JWT ----------------------------------------------------------------------------------
    def jwt() -> str:
        return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJ" + r(URL, 120) + "." + r(URL, 86)

    j = jwt()
    add("jwt", "http header", f"Authorization: Bearer {j}", j)
    j = jwt()
    add("jwt", "log line", f"auth middleware: rejected expired jwt {j}", j)
    j = jwt()
    add("jwt", "url", f"GET /callback?id_token={j}&state=xyz HTTP/1.1", j)
    j = jwt()
    add("jwt", "cookie", f"Cookie: theme=dark; access_token={j}", j)
    j = jwt()
    add("jwt", "yaml (kubeconfig)", f"users:\n- name: sa\n  user:\n    token: {j}", j)
    jwe = (
        "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ."
        + r(URL, 342)
        + "."
        + r(URL, 16)
        + "."
        + r(URL, 120)
        + "."
        + r(URL, 22)
    )
    add("jwt", "log line", f"session {jwe} decrypted", jwe)

    # --- basic auth ---------------------------------------------------------------------------
    p = pw()
    add(
        "basic_auth/curl",
        "shell history",
        f"curl -u admin:{p} https://jenkins.acme.com/api/json",
        p,
    )
    p = pw()
    add(
        "basic_auth/curl",
        "shell history",
        f'curl -sSf --user "deploy:{p}" -X POST https://nexus.acme.com/upload',
        p,
    )
    p = pw()
    add("basic_auth/curl", "shell history", f"curl -uelastic:{p} localhost:9200/_cat/indices", p)
    p = pw()
    add("basic_auth/curl", "log line", f"+ curl -k -u svc-backup:{p} https://10.0.0.9/api", p)
    basic = base64.b64encode(f"admin:{pw()}".encode()).decode()
    add("basic_auth/header", "http header", f"Authorization: Basic {basic}", basic)
    add(
        "basic_auth/header",
        "log line",
        f'127.0.0.1 - - "GET / HTTP/1.1" 401 - headers={{"Authorization": "Basic {basic}"}}',
        basic,
    )
    p = pw()
    add("basic_auth/url", "url", f"https://bob:{p}@git.acme.com/ops/infra.git", p)
    p = pw()
    add("basic_auth/url", "env", f"http_proxy=http://proxyuser:{p}@proxy.acme.com:3128", p)
    p = pw()
    add("basic_auth/url", "git-credentials", f"https://ci:{p}@gitlab.acme.com", p)
    p = pw()
    add(
        "basic_auth/wget",
        "shell history",
        f"wget --http-user=bob --http-password={p} https://files.acme.com/x.tgz",
        p,
    )
    p = pw()
    add("basic_auth/netrc", "netrc", f"machine files.acme.com login bob password {p}", p)
    p = pw()
    add("basic_auth/netrc", "netrc", f"machine ftp.acme.com\n  login backup\n  password {p}", p)
    p = "hunter" + r(string.ascii_lowercase, 4)
    add("basic_auth/netrc", "netrc", f"default login anonymous password {p}", p)
    p = pw()
    add("basic_auth/htpasswd", "shell history", f"htpasswd -bc /etc/nginx/.htpasswd admin {p}", p)
    p = pw()
    add("basic_auth/lftp", "shell history", f"lftp -u backup,{p} sftp://files.acme.com", p)

    # --- passwords in config files ------------------------------------------------------------
    p = pw()
    add(
        "password/xml",
        "xml (web.config)",
        f'<appSettings>\n  <add key="DbPassword" value="{p}" />\n</appSettings>',
        p,
    )
    p = pw()
    add("password/xml", "xml", f"<password>{p}</password>", p)
    p = pw()
    add(
        "password/xml",
        "xml (hibernate)",
        f'<property name="hibernate.connection.password" value="{p}"/>',
        p,
    )
    p = pw()
    add("password/xml", "xml (java properties)", f'<entry key="mail.smtp.password">{p}</entry>', p)
    p = base64.b64encode((pw() + "AdministratorPassword").encode("utf-16-le")).decode()
    add(
        "password/xml",
        "xml multi-line (unattend.xml)",
        "<AutoLogon>\n  <Password>\n"
        f"    <Value>{p}</Value>\n    <PlainText>false</PlainText>\n  </Password>\n</AutoLogon>",
        p,
    )
    p = pw()
    add("password/xml", "xml", f'<add key="Stripe:SecretKey" value="{p}"/>', p)
    p = pw()
    add(
        "password/json",
        "json multi-line (value on the next line)",
        '{\n  "database": {\n    "user": "app",\n    "password":\n      "' + p + '"\n  }\n}',
        p,
    )
    p = pw()
    add("password/json", "json one-line", f'{{"username": "svc", "password": "{p}"}}', p)
    p = pw()
    add(
        "password/json",
        "json (escaped in a log)",
        f'msg="config loaded: {{\\"db_pass\\": \\"{p}\\"}}"',
        p,
    )
    p = pw()
    add("password/yaml", "yaml", f"spring:\n  datasource:\n    password: {p}", p)
    p = pw()
    add("password/yaml", "yaml (block scalar)", f"smtp:\n  password: |\n    {p}", p)
    p = pw()
    add("password/yaml", "yaml (quoted)", f"- name: db\n  secret: '{p}'", p)
    p = pw()
    add("password/ini", "ini", f"[database]\nhost = db1\npassword = {p}", p)
    p = pw()
    add("password/env", "env", f'DB_PASSWORD="{p}"', p)
    p = pw()
    add("password/env", "env", f"export SECRET_KEY='{p}'", p)
    p = pw()
    add("password/env", "docker compose", f"    environment:\n      - POSTGRES_PASSWORD={p}", p)
    p = pw()
    add("password/toml", "toml", f'[smtp]\npass = "{p}"', p)
    p = pw()
    add("password/php", "php", f"$db_password = '{p}';", p)
    p = pw()
    add(
        "password/hash",
        "shadow",
        f"deploy:$6$rounds=5000$Zx{r(AN, 8)}${r(AN + './', 86)}:19800:0:99999:7:::",
        "$6$rounds=5000$Zx",
    )
    h = "$apr1$" + r(AN, 8) + "$" + r(AN + "./", 22)
    add("password/hash", "htpasswd", f"admin:{h}", h)
    h = "$2y$10$" + r(AN + "./", 53)
    add("password/hash", "sql", f"UPDATE users SET password_hash='{h}' WHERE id=7;", h)
    p = pw()
    add("password/snmp", "conf (snmpd.conf)", f"rocommunity {p} 10.0.0.0/8", p)
    p = pw()
    add(
        "password/wifi",
        "conf (wpa_supplicant)",
        f'network={{\n    ssid="acme-corp"\n    psk="{p}"\n}}',
        p,
    )

    # --- passwords on command lines -----------------------------------------------------------
    p = pw()
    add("password/cli", "shell history", f"sshpass -p '{p}' ssh admin@10.1.2.3", p)
    p = pw()
    add("password/cli", "shell history", f"docker run -d -e POSTGRES_PASSWORD={p} postgres:16", p)
    p = pw()
    add(
        "password/cli",
        "shell history",
        f"ldapsearch -x -H ldap://dc1 -D cn=admin,dc=acme,dc=com -w {p} uid=bob",
        p,
    )
    p = pw()
    add("password/cli", "shell history", f"smbclient //fs1/share -U bob%{p}", p)
    p = pw()
    add("password/cli", "shell history", f"net use Z: \\\\fs1\\public {p} /user:ACME\\bob", p)
    p = pw()
    add("password/cli", "shell history", f"net user svc_backup {p} /add", p)
    p = pw()
    add("password/cli", "shell history", f"echo '{p}' | sudo -S systemctl restart nginx", p)
    p = pw()
    add("password/cli", "shell history", f"echo 'deploy:{p}' | chpasswd", p)
    p = pw()
    add(
        "password/cli",
        "shell history",
        f"openssl pkcs12 -export -in c.pem -inkey k.pem -out c.p12 -passout pass:{p}",
        p,
    )
    p = pw()
    add(
        "password/cli",
        "shell history",
        f"keytool -importkeystore -srckeystore a.jks -srcstorepass {p}",
        p,
    )
    p = pw()
    add(
        "password/cli",
        "shell history",
        f"kubectl create secret generic db --from-literal=password={p}",
        p,
    )
    p = pw()
    add("password/cli", "shell history", f"helm upgrade web ./chart --set auth.password={p}", p)
    p = pw()
    add("password/cli", "shell history", f"ansible-playbook site.yml -e ansible_become_pass={p}", p)
    p = pw()
    add(
        "password/cli",
        "shell history",
        f"az login --service-principal -u {uuid()} -p {p} --tenant {uuid()}",
        p,
    )
    p = pw()
    add(
        "password/cli",
        "shell history",
        f"snmpwalk -v3 -u monitor -l authPriv -a SHA -A {p} -x AES -X {p}x 10.0.0.1",
        p,
    )
    p = pw()
    add("password/cli", "powershell", f'$pw = ConvertTo-SecureString "{p}" -AsPlainText -Force', p)
    p = pw()
    add(
        "password/cli",
        "process list",
        f"root  4242  0.1  java -jar app.jar --db.password={p} --server.port=8080",
        p,
    )

    # --- passwords in free text and log lines -------------------------------------------------
    add(
        "password/free-text",
        "log line (sshd)",
        "Mar  3 10:15:22 bastion sshd[2211]: Accepted password for bob "
        "from 1.2.3.4 port 22 ssh2 (pw TEBHtzLrN)",
        "TEBHtzLrN",
    )
    p = pw()
    add("password/free-text", "chat message", f"the new admin password is {p}, please change it", p)
    p = pw()
    add("password/free-text", "ticket text", f"login with user deploy pass {p} on the jump host", p)
    p = pw()
    add(
        "password/free-text",
        "log line",
        f"2024-05-02 10:00:00 WARN setup: generated passwd {p} for admin",
        p,
    )
    p = pw()
    add("password/free-text", "log line", f"[init] root pwd {p} written to /root/.my.cnf", p)
    p = pw()
    add("password/free-text", "note", f"wifi: secret {p}", p)
    p = "".join(RND.sample(r(string.ascii_letters, 20) + r(string.digits, 6), 26))
    add("password/free-text", "log line", f"api gateway issued token {p} to client 42", p)
    p = r(string.digits, 8)
    add("password/free-text", "note", f"door code / pw {p}", p)
    p = pw()
    add(
        "password/log",
        "log line",
        f"2024-05-02 10:00:00,001 DEBUG Connecting with password={p} to db1",
        p,
    )
    p = pw()
    add(
        "password/log",
        "log line (json)",
        f'{{"level":"debug","msg":"login","user":"bob","passwd":"{p}"}}',
        p,
    )
    p = pw()
    add("password/log", "log line", f"DEBUG request body: username=bob&password={p}&remember=1", p)
    cs = r(AN, 40)
    add(
        "password/log",
        "log line",
        f"oauth: POST /token grant_type=client_credentials&client_id=x&client_secret={cs}",
        cs,
    )
    sid = r(HEX, 32)
    add("session", "http header", f"Set-Cookie: PHPSESSID={sid}; path=/; HttpOnly", sid)
    add("session", "log line", f"session_id={sid} user=bob action=login", sid)

    # --- other SaaS tokens (gitleaks prefixes) ------------------------------------------------
    for pre, n, alpha in (
        ("sntryu_", 64, HEX),
        ("glsa_", 32, AN),
        ("NRAK-", 27, UP),
        ("PMAK-", 24, HEX),
        ("lin_api_", 40, AN),
        ("dp.pt.", 43, AN),
        ("pul-", 40, HEX),
        ("pnu_", 36, AN),
        ("rdme_", 70, LOW),
        ("sha256~", 43, URL),
        ("shippo_live_", 40, HEX),
        ("AGE-SECRET-KEY-1", 58, UP),
    ):
        t = pre + r(alpha, n)
        if pre == "glsa_":
            t += "_" + r(HEX, 8)
        if pre == "PMAK-":
            t += "-" + r(HEX, 34)
        add(
            "saas/" + pre.strip("_-.~1").lower().split("_")[0].split("-")[0],
            "env",
            f"SERVICE_CREDENTIAL={t}" if pre != "AGE-SECRET-KEY-1" else f"# age key\n{t}",
            t,
        )
        add(
            "saas/" + pre.strip("_-.~1").lower().split("_")[0].split("-")[0],
            "log line",
            f"client configured: {t}",
            t,
        )

    out = Path(__file__).with_name("positives.json")
    out.write_text(json.dumps(E, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(E)} entries, {len({e['family'] for e in E})} families -> {out}")


if __name__ == "__main__":
    main()
