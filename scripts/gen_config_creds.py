#!/usr/bin/env python3
"""Writes the labelled corpus of configuration-file credentials and their
look-alikes (issue 13) under fixtures/config-creds/.

Every value is drawn at random (a fixed seed per split, so the output is
reproducible); host names are made-up company hosts, never example.com.
Each record is one small file: its path, its text, the 1-based line of the
credential (positives) or of the look-alike (negatives), and the shape.

    python3 scripts/gen_config_creds.py            # writes tune.jsonl and holdout.jsonl

`tune` is what the rules were tuned on; `holdout` (another seed, other
hosts and names) is only measured.
"""

import base64
import json
import os
import random
import string
import sys

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "config-creds")

LETTERS = string.ascii_letters
ALNUM = string.ascii_letters + string.digits
GEN_PW = ALNUM + "!@#%"
DJANGO = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"
WP = ALNUM + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"

COMPANIES = {
    "tune": ["acme-corp", "globex", "initech", "umbrella-labs", "hooli", "vandelay"],
    "holdout": ["stark-ind", "wayne-ent", "tyrell", "cyberdyne", "soylent-co", "wonka"],
}
ENVS = ["prod", "staging", "eu-west", "internal", "us-east-1"]
TLDS = ["io", "com", "net", "cloud"]


class Gen:
    def __init__(self, split, seed):
        self.r = random.Random(seed)
        self.split = split
        self.records = []

    def host(self, kind="db"):
        r = self.r
        return f"{kind}{r.randint(1, 9)}.{r.choice(ENVS)}.{r.choice(COMPANIES[self.split])}.{r.choice(TLDS)}"

    def rand(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def password(self, n=None):
        """A generated password: letters, digits and `!@#%`, with at least
        one digit and one of each case, as password managers make them."""
        n = n or self.r.randint(14, 24)
        while True:
            v = self.rand(GEN_PW, n)
            if (any(c.isdigit() for c in v) and any(c.islower() for c in v)
                    and any(c.isupper() for c in v)):
                return v

    def alnum(self, n=None):
        n = n or self.r.randint(14, 24)
        while True:
            v = self.rand(ALNUM, n)
            if any(c.isdigit() for c in v) and any(c.islower() for c in v) and any(c.isupper() for c in v):
                return v

    def short(self):
        """8-11 characters of upper, lower and digits, no character three
        times (a generator's output, not a pattern)."""
        while True:
            v = self.alnum(self.r.randint(8, 11))
            if max(v.count(c) for c in v) < 3:
                return v

    def letters_mixed(self):
        while True:
            v = self.rand(LETTERS, 16)
            if sum(c.isupper() for c in v) >= 4 and sum(c.islower() for c in v) >= 4:
                return v

    def lower_digits(self):
        """8-11 characters of lower case and digits (at least 2 digits and
        3 letters), as short generated passwords often are."""
        while True:
            v = self.rand(string.ascii_lowercase + string.digits, self.r.randint(8, 11))
            if (sum(c.isdigit() for c in v) >= 2 and sum(c.isalpha() for c in v) >= 3
                    and len(set(v)) >= len(v) - 1):
                return v

    def hex(self, n):
        return self.rand("0123456789abcdef", n)

    def public_ip(self):
        r = self.r
        return f"{r.choice([3, 18, 34, 52, 54, 35, 104, 137, 159])}.{r.randint(1, 254)}.{r.randint(1, 254)}.{r.randint(1, 254)}"

    def rds_host(self):
        r = self.r
        return (f"{r.choice(['orders', 'billing', 'app'])}-db.c{self.rand(string.ascii_lowercase + string.digits, 10)}."
                f"{r.choice(['us-east-1', 'eu-west-1', 'ap-south-1'])}.rds.amazonaws.com")

    def nkey_seed(self, kind="U"):
        prefix = {"U": 20 << 3, "A": 0, "O": 14 << 3}[kind]
        raw = bytes([(18 << 3) | (prefix >> 5), (prefix & 31) << 3]) + bytes(self.r.getrandbits(8) for _ in range(32))
        c = crc16(raw)
        return base64.b32encode(raw + bytes([c & 0xFF, c >> 8])).decode().rstrip("=")

    def user(self):
        return self.r.choice(["app", "deploy", "svc-report", "ci", "backup", "etl", "web", "billing"])

    def add(self, label, shape, path, lines, line):
        self.records.append({
            "split": self.split,
            "label": label,
            "shape": shape,
            "path": path,
            "text": "\n".join(lines) + "\n",
            "line": line,
        })


def crc16(data):
    """CRC-16/XMODEM, as NATS nkeys checksum their encodings."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def b64(s):
    return base64.b64encode(s.encode()).decode()


def quote_yaml(v):
    return v if v[0].isalnum() else f'"{v}"'


def positives(g):
    r = g.r
    # Generated passwords after password: in YAML.
    for _ in range(40):
        pw = g.password(20)
        key = r.choice(["password", "db_password", "redis_password", "smtp_password", "adminPassword"])
        g.add("pos", "yaml-password", r.choice(["config/app.yml", "deploy/values.yaml", "config/settings.yaml"]),
              ["database:", f"  host: {g.host()}", f"  {key}: {quote_yaml(pw)}"], 3)
    # Django.
    for _ in range(10):
        key = g.rand(DJANGO, 50)
        q = r.choice(["'", '"'])
        g.add("pos", "django-secret-key", "mysite/settings.py",
              ["import os", f"SECRET_KEY = {q}{key}{q}", "DEBUG = False"], 2)
    for _ in range(5):
        key = "django-insecure-" + g.rand(DJANGO, 50)
        g.add("pos", "django-insecure", "mysite/settings.py", [f"SECRET_KEY = '{key}'"], 1)
    for _ in range(8):
        key = g.rand(DJANGO, 50)
        g.add("pos", "django-env", ".env", ["DEBUG=0", f"DJANGO_SECRET_KEY={key}"], 2)
    # Rails.
    for _ in range(6):
        g.add("pos", "rails-secret-key-base", "config/secrets.yml",
              ["production:", f"  secret_key_base: {g.rand('0123456789abcdef', 128)}"], 2)
    # PHP.
    for _ in range(8):
        g.add("pos", "php-define", "wp-config.php",
              ["<?php", f"define( 'DB_HOST', '{g.host()}' );", f"define( 'DB_PASSWORD', '{g.password()}' );"], 3)
    for _ in range(8):
        name = r.choice(["AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "NONCE_SALT"])
        salt = g.rand(WP.replace("'", ""), 64)
        g.add("pos", "wordpress-salt", "wp-config.php", ["<?php", f"define('{name}', '{salt}');"], 2)
    for _ in range(8):
        g.add("pos", "php-variable", "config/database.php",
              ["<?php", f"$host = '{g.host()}';", f"$password = '{g.password()}';"], 3)
    # Credential URLs.
    schemes = ["https", "amqp", "amqps", "ftp", "smtp", "mongodb+srv", "mqtt", "nats", "postgres", "mysql", "redis"]
    for _ in range(40):
        s = r.choice(schemes)
        user = "" if s == "redis" and r.random() < 0.5 else g.user()
        url = f"{s}://{user}:{g.alnum()}@{g.host(r.choice(['db', 'mq', 'cache', 'git', 'mail']))}:{r.randint(1000, 9999)}/x"
        g.add("pos", f"url-{s}", r.choice([".env", "config/app.yml", "settings.py"]),
              ["# services", f"SERVICE_URL={url}"], 2)
    for _ in range(10):
        g.add("pos", "git-credentials", ".git-credentials",
              [f"https://{g.user()}:{g.alnum()}@{g.host('git')}"], 1)
    for _ in range(10):
        h = g.host()
        g.add("pos", "jdbc-password", "src/main/resources/application.properties",
              [f"spring.datasource.url=jdbc:mysql://{h}:3306/shop?user={g.user()}&password={g.alnum()}&useSSL=true"], 1)
    # Files of their own format.
    for _ in range(8):
        g.add("pos", "pgpass", ".pgpass", [f"{g.host()}:5432:{g.user()}:{g.user()}:{g.password()}"], 1)
    for _ in range(8):
        g.add("pos", "my-cnf", ".my.cnf", ["[client]", f"host={g.host()}", f"user={g.user()}", f"password={g.short()}"], 4)
    for _ in range(8):
        g.add("pos", "netrc", ".netrc", [f"machine {g.host('api')}", f"  login {g.user()}", f"  password {g.password()}"], 3)
    for _ in range(8):
        g.add("pos", "npmrc-auth", ".npmrc",
              [f"registry=https://{g.host('npm')}/", f"_auth={b64(g.user() + ':' + g.password())}"], 2)
    for _ in range(5):
        g.add("pos", "npmrc-password", ".npmrc",
              [f"//{g.host('npm')}/:username={g.user()}", f"//{g.host('npm')}/:_password={b64(g.password())}"], 2)
    for _ in range(6):
        g.add("pos", "pypirc", ".pypirc",
              ["[internal]", f"repository = https://{g.host('pypi')}/simple", f"username = {g.user()}", f"password = {g.password()}"], 4)
    # Docker, Kubernetes, Helm.
    for _ in range(8):
        g.add("pos", "docker-auth", ".docker/config.json",
              ['{', '  "auths": {', f'    "{g.host("registry")}": {{', f'      "auth": "{b64(g.user() + ":" + g.password())}"', '    }', '  }', '}'], 4)
    for _ in range(10):
        key = r.choice(["password", "db-password", "API_TOKEN", "redis-pass", "secret"])
        g.add("pos", "k8s-data", "k8s/secret.yaml",
              ["apiVersion: v1", "kind: Secret", "metadata:", "  name: app", "type: Opaque", "data:",
               f"  username: {b64(g.user())}", f"  {key}: {b64(g.password())}"], 8)
    for _ in range(6):
        key = r.choice(["DB_PASS", "api-key", "password"])
        g.add("pos", "k8s-stringdata", "k8s/secret.yaml",
              ["apiVersion: v1", "kind: Secret", "metadata:", "  name: app", "stringData:", f"  {key}: {g.password()}"], 6)
    for _ in range(6):
        g.add("pos", "helm-values", "charts/app/values.yaml",
              ["postgresql:", "  auth:", f"    password: {g.alnum()}"], 3)
    # HTTP.
    for _ in range(8):
        g.add("pos", "http-basic", r.choice(["api.http", "scripts/deploy.sh", "client.py"]),
              [f"GET https://{g.host('api')}/v1/builds", f"Authorization: Basic {b64(g.user() + ':' + g.password())}"], 2)
    for _ in range(8):
        g.add("pos", "http-bearer", r.choice(["client.js", "scripts/sync.sh"]),
              [f'const headers = {{ "Authorization": "Bearer {g.alnum(32)}" }};'], 1)
    for _ in range(8):
        g.add("pos", "curl-u", "scripts/deploy.sh",
              ["#!/bin/sh", f"curl -u {g.user()}:{g.password()} https://{g.host('ci')}/api/json"], 2)
    for _ in range(5):
        g.add("pos", "wget-password", "scripts/fetch.sh",
              [f"wget --user={g.user()} --password={g.alnum()} https://{g.host('files')}/build.tgz"], 1)
    # Code syntaxes.
    for _ in range(8):
        g.add("pos", "go-struct", "internal/db/config.go",
              ["cfg := Config{", f'\tHost:     "{g.host()}",', f'\tPassword: "{g.password()}",', "}"], 3)
    for _ in range(6):
        g.add("pos", "index-assign", "app/config.py", [f'cfg["password"] = "{g.password()}"'], 1)
    for _ in range(6):
        g.add("pos", "comparison", "app/auth.py", [f'if password == "{g.password()}":', "    return True"], 1)
    for _ in range(6):
        g.add("pos", "kwarg", "app/db.py",
              [f'conn = psycopg2.connect(host="{g.host()}", user="{g.user()}", password="{g.password()}")'], 1)
    for _ in range(5):
        g.add("pos", "network-credential", "Mailer.cs",
              [f'client.Credentials = new NetworkCredential("{g.user()}", "{g.password()}");'], 1)
    for _ in range(5):
        g.add("pos", "powershell", "deploy.ps1",
              [f'$secure = ConvertTo-SecureString "{g.password()}" -AsPlainText -Force'], 1)
    for _ in range(5):
        g.add("pos", "sql-identified", "db/init.sql",
              [f"CREATE USER '{g.user()}'@'%' IDENTIFIED BY '{g.password()}';"], 1)
    for _ in range(5):
        g.add("pos", "sql-create-user", "db/init.sql",
              [f"CREATE ROLE {g.user().replace('-', '_')} WITH LOGIN PASSWORD '{g.password()}';"], 1)
    for _ in range(6):
        g.add("pos", "properties", "src/main/resources/application.properties",
              [f"spring.datasource.url=jdbc:postgresql://{g.host()}/app", f"spring.datasource.password={g.password()}"], 2)
    for _ in range(8):
        g.add("pos", "compose-letters", "docker-compose.yml",
              ["services:", "  db:", "    environment:", f"      POSTGRES_PASSWORD: {g.letters_mixed()}"], 4)
    for _ in range(6):
        g.add("pos", "ini", "conf/service.ini", ["[database]", f"host = {g.host()}", f"password = {g.password()}"], 3)
    for _ in range(5):
        key = base64.b64encode(bytes(r.getrandbits(8) for _ in range(32))).decode()
        g.add("pos", "wireguard", "wg0.conf", ["[Interface]", "Address = 10.8.0.1/24", f"PrivateKey = {key}"], 3)
    for _ in range(5):
        g.add("pos", "filezilla", "sitemanager.xml",
              ["<Server>", f"  <Host>{g.host('ftp')}</Host>", f'  <Pass encoding="base64">{b64(g.password())}</Pass>', "</Server>"], 3)
    for _ in range(5):
        g.add("pos", "sftp-config", "sftp-config.json",
              ["{", f'  "host": "{g.host("web")}",', f'  "password": "{g.password()}",', "}"], 3)
    for _ in range(5):
        g.add("pos", "ftpconfig", ".ftpconfig",
              ["{", f'  "host": "{g.host("ftp")}",', f'  "pass": "{g.password()}"', "}"], 3)
    for _ in range(6):
        g.add("pos", "short-strong-key", "config/database.yml",
              ["production:", f"  password: {g.short()}"], 2)


def positives_more(g):
    """Shapes added in the second round of issue 13 (code syntaxes,
    recorded HTTP fixtures, short passwords, OAuth 1, NATS, files whose
    whole content is one secret)."""
    r = g.r
    for _ in range(6):
        g.add("pos", "java-setter", "src/main/java/com/shop/DbConfig.java",
              ["DataSource ds = new DataSource();", f'ds.setUrl("jdbc:postgresql://{g.host()}/shop");',
               f'ds.set{r.choice(["", "Db", "Admin"])}Password("{g.password()}");'], 3)
    for _ in range(4):
        g.add("pos", "password-equals", "src/main/java/com/shop/Admin.java",
              [f'if (password.equals("{g.password()}")) {{', "    grant();", "}"], 1)
    for _ in range(4):
        g.add("pos", "go-map", "internal/conf/conf.go",
              [f'var defaults = map[string]string{{"host": "{g.host()}", "password": "{g.password()}"}}'], 1)
    for _ in range(6):
        g.add("pos", "dotnet-connstr", "appsettings.json",
              ['{', '  "ConnectionStrings": {',
               f'    "Default": "Server=tcp:{g.host("sql")},1433;Database=shop;User ID={g.user()};Password={g.password()};"',
               '  }', '}'], 3)
    for _ in range(5):
        g.add("pos", "cassette-yaml-body", "cassettes/login.yml",
              ["http_interactions:", "- request:", "    method: post", f"    uri: https://{g.host('api')}/v1/login",
               "    body:", f"      string: '{{\"username\":\"{g.user()}\",\"password\":\"{g.password()}\"}}'".replace('\\"', '"')], 6)
    for _ in range(5):
        g.add("pos", "cassette-yaml-auth", "cassettes/builds.yml",
              ["- request:", f"    uri: https://{g.host('ci')}/api/json", "    headers:", "      Authorization:",
               f"      - Basic {b64(g.user() + ':' + g.password())}"], 5)
    for _ in range(5):
        body = json.dumps({"username": g.user(), "password": g.password()})
        g.add("pos", "cassette-json-body", "recordings/session.json",
              [json.dumps({"request": {"method": "POST", "uri": f"https://{g.host('api')}/login", "body": body}})], 1)
    for _ in range(4):
        g.add("pos", "cassette-json-auth", "recordings/session.json",
              [json.dumps({"request": {"uri": f"https://{g.host('api')}/v2/me",
                                       "headers": {"Authorization": [f"Bearer {g.alnum(32)}"]}}})], 1)
    for _ in range(8):
        key = r.choice(["password", "db_password", "DB_PASSWORD", "redis_pass" if False else "passwd", "smtp.password"])
        sep = ": " if key[0].islower() and "." not in key else "="
        path = "config/database.yml" if sep == ": " else r.choice([".env", "conf/app.properties"])
        g.add("pos", "short-bare", path, ["# database", f"{key}{sep}{g.lower_digits()}"], 2)
    for _ in range(4):
        g.add("pos", "oauth1-consumer", r.choice([".env", "config/twitter.yml"]),
              ["# twitter app", f"CONSUMER_SECRET={g.alnum(50)}"], 2)
    for _ in range(4):
        g.add("pos", "oauth1-token-secret", "recordings/oauth.yml",
              ["  response:", "    body:",
               f"      string: oauth_token={r.randint(10**9, 10**10)}-{g.alnum(30)}&oauth_token_secret={g.alnum(45)}&oauth_callback_confirmed=true"], 3)
    for _ in range(4):
        g.add("pos", "oauth1-access-secret", "bot/settings.py",
              ["# twitter bot", f'ACCESS_TOKEN_SECRET = "{g.alnum(45)}"'], 2)
    for _ in range(4):
        seed = g.nkey_seed("U")
        g.add("pos", "nkey-creds", "nats/app.creds",
              ["-----BEGIN NATS USER JWT-----", "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ", "------END NATS USER JWT------",
               "", "-----BEGIN USER NKEY SEED-----", seed, "------END USER NKEY SEED------"], 6)
    for _ in range(3):
        g.add("pos", "nkey-config", "config/nats.yml", ["nats:", f"  url: nats://{g.host('nats')}:4222", f"  seed: {g.nkey_seed(r.choice('UA'))}"], 3)
    for _ in range(2):
        g.add("pos", "nkey-file", f"nsc/keys/keys/U/{g.rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 2)}/user.nk", [g.nkey_seed("U")], 1)
    for s in ["rediss", "sftp", "ldaps", "kafka", "sqlserver", "mqtts"]:
        for _ in range(2):
            url = f"{s}://{g.user()}:{g.alnum()}@{g.host(r.choice(['mq', 'ldap', 'files', 'cache']))}:{r.randint(1000, 9999)}"
            g.add("pos", f"url-{s}", r.choice([".env", "config/app.yml"]), ["# services", f"SERVICE_URL={url}"], 2)
    for _ in range(4):
        g.add("pos", "short-rds", r.choice([".env", "config/app.yml"]),
              [f"DATABASE_URL=postgres://{g.user()}:{g.short()}@{g.rds_host()}:5432/app"], 1)
    for _ in range(4):
        g.add("pos", "short-public-ip", r.choice([".env", "deploy/settings.ini"]),
              [f"REDIS_URL=redis://{g.user()}:{g.short()}@{g.public_ip()}:6379/0"], 1)
    # Files whose whole content is one secret, by name.
    for _ in range(4):
        g.add("pos", "rails-master-key", r.choice(["config/master.key", "app/config/master.key"]), [g.hex(32)], 1)
    for _ in range(3):
        env = r.choice(["production", "staging"])
        g.add("pos", "rails-credentials-key", f"config/credentials/{env}.key", [g.hex(32)], 1)
    for _ in range(2):
        g.add("pos", "jenkins-master-key", "jenkins_home/secrets/master.key", [g.hex(512)], 1)
    for _ in range(2):
        g.add("pos", "jenkins-initial-admin", "jenkins/secrets/initialAdminPassword", [g.hex(32)], 1)
    for _ in range(3):
        g.add("pos", "secret-key-file", r.choice(["secret.key", "jenkins/secret.key", "conf/secret.key"]),
              [r.choice([g.hex(64), base64.b64encode(bytes(r.getrandbits(8) for _ in range(32))).decode()])], 1)
    for _ in range(3):
        g.add("pos", "vault-token-file", r.choice([".vault-token", "ops/.vault-token"]),
              [r.choice(["hvs." + g.alnum(24), "s." + g.alnum(24)])], 1)


def negatives_more(g):
    r = g.r
    for _ in range(4):
        g.add("neg", "setter-env", "src/main/java/com/shop/DbConfig.java",
              ['ds.setPassword(System.getenv("DB_PASSWORD"));'], 1)
    for _ in range(3):
        g.add("neg", "setter-weak", "src/main/java/com/shop/DbConfig.java",
              [f'ds.setPassword("{r.choice(["changeme", "password", "secret123", "admin1234"])}");'], 1)
    for _ in range(4):
        g.add("neg", "short-bare-trivial", "config/database.yml",
              [f"password: {r.choice(['test1234', 'admin2024', 'abc12345', 'pass1234', 'root1234'])}"], 1)
    for _ in range(4):
        g.add("neg", "short-private-ip", ".env",
              [f"REDIS_URL=redis://{g.user()}:{g.short()}@10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}:6379/0"], 1)
    for _ in range(3):
        seed = list(g.nkey_seed("U"))
        i = r.randint(10, 50)
        seed[i] = "A" if seed[i] != "A" else "B"
        g.add("neg", "nkey-bad-checksum", "config/nats.yml", [f"seed: {''.join(seed)}"], 1)
    for _ in range(3):
        g.add("neg", "master-key-placeholder", "config/master.key", [r.choice(["<your-master-key>", "x" * 32, "0" * 32])], 1)
    for _ in range(3):
        g.add("neg", "key-not-secret-file", r.choice(["ssl/server.key", "credentials/production.key", "config/app.key"]), [g.hex(32)], 1)
    for _ in range(2):
        g.add("neg", "vault-token-placeholder", ".vault-token", [r.choice(["root", "<token>", "${VAULT_TOKEN}"])], 1)
    for _ in range(3):
        g.add("neg", "cassette-filtered", "cassettes/login.yml",
              ["    headers:", "      Authorization:", "      - Basic <FILTERED>",
               "    body:", "      string: '{\"username\":\"ops\",\"password\":\"<PASSWORD>\"}'".replace('\\"', '"')], 3)


def negatives(g):
    r = g.r
    placeholders = ["${DB_PASSWORD}", "{{ .Values.password }}", "<your-password>", "changeme", "CHANGE_ME",
                    "your_password_here", "xxxxxxxxxxxx", "********", "%(password)s", "$DB_PASS"]
    for _ in range(40):
        p = r.choice(placeholders)
        g.add("neg", "placeholder", r.choice(["config/app.yml", ".env", "settings.py"]),
              [f"password: {quote_yaml(p) if p[0] not in '$<{%*' else chr(34) + p + chr(34)}"], 1)
    for _ in range(15):
        line = r.choice([
            'password = os.environ["DB_PASSWORD"]',
            'password = os.getenv("DB_PASSWORD")',
            "SECRET_KEY = get_random_secret_key()",
            "apiKey: process.env.API_KEY,",
            "password = self.settings.password",
            "token = request.headers.get('X-Token')",
            "password: config.database.password",
            "secret_key = settings.SECRET_KEY",
            'password = vault.read("secret/db")["password"]',
        ])
        g.add("neg", "indirection", r.choice(["app/config.py", "src/client.js"]), [line], 1)
    # Template and sample files with real-looking values.
    for _ in range(25):
        path = r.choice([".env.example", "config/database.yml.sample", "wp-config-sample.php",
                         "config/app.yml.template", ".env.dist", "settings.example.py"])
        g.add("neg", "sample-file", path, [f"DB_PASSWORD={g.password()}"], 1)
    # Local and tutorial credentials.
    for _ in range(35):
        url = r.choice([
            f"postgres://postgres:postgres@localhost:5432/app",
            f"postgres://app:{g.alnum()}@127.0.0.1:5432/app",
            f"mysql://scott:tiger@localhost/test",
            f"redis://:{g.alnum()}@localhost:6379/0",
            f"amqp://guest:guest@rabbitmq:5672/",
            f"mongodb://root:example@mongo:27017/",
            f"postgresql://user:{g.alnum()}@host.docker.internal/db",
        ])
        g.add("neg", "local-url", r.choice([".env", "config/app.yml"]), [f"DATABASE_URL={url}"], 1)
    for _ in range(10):
        g.add("neg", "local-pgpass", ".pgpass", [f"localhost:5432:*:postgres:{g.password()}"], 1)
    for _ in range(10):
        g.add("neg", "local-jdbc", "application.properties",
              [f"spring.datasource.url=jdbc:mysql://localhost:3306/app?user=root&password={g.alnum()}"], 1)
    # Tests, docs, vendored code.
    for _ in range(25):
        path = r.choice(["tests/test_db.py", "spec/models/user_spec.rb", "src/__tests__/auth.test.js",
                         "docs/configuration.md", "README.md", "examples/app/settings.py",
                         "node_modules/pg/lib/defaults.js", "vendor/bundle/gems/x/config.rb",
                         "lib/python3.12/site-packages/pkg/conf.py", "docs/_build/html/config.html"])
        g.add("neg", "docs-tests-vendored", path, [f'password = "{g.password()}"'], 1)
    # Doc-comment examples.
    for _ in range(15):
        pw = g.alnum(13)
        style = r.choice(["ruby", "rust", "javadoc", "doctest"])
        if style == "ruby":
            lines = ["# Example:", f'#   user.password = "{pw}"', '#   user.authenticate("wrong") # => false', "def authenticate(pw)"]
            line = 2
        elif style == "rust":
            lines = ["/// ```", f'/// let password = "{pw}";', "/// ```", "fn check() {}"]
            line = 2
        elif style == "javadoc":
            lines = ["/**", f' * conn.setPassword("{pw}");', f' * password = "{pw}"', " */"]
            line = 3
        else:
            lines = ['def login(password):', '    """', f'    >>> login(password="{pw}")', '    """']
            line = 3
        g.add("neg", "doc-example", "src/auth.rb" if style == "ruby" else "src/lib.rs", lines, line)
    # Project metadata and tables.
    for _ in range(10):
        guid = "-".join(g.rand("0123456789abcdef", n) for n in (8, 4, 4, 4, 12))
        g.add("neg", "user-secrets-id", "App.csproj", ["<PropertyGroup>", f"  <UserSecretsId>{guid}</UserSecretsId>", "</PropertyGroup>"], 2)
    for _ in range(10):
        h = base64.b64encode(bytes(r.getrandbits(8) for _ in range(64))).decode()
        g.add("neg", "lock-integrity", "package-lock.json",
              ['    "node_modules/secret-handshake": {', f'      "integrity": "sha512-{h}"', "    }"], 2)
    for _ in range(5):
        g.add("neg", "scram", "postgresql.conf", ["#password_encryption = scram-sha-256", "listen_addresses = '*'"], 1)
    for _ in range(10):
        g.add("neg", "empty-password", r.choice([".env", "conf/app.ini"]),
              ["password=", f"next_setting={g.alnum()}"], 1)
    for _ in range(8):
        words = "|".join(r.sample(["abs", "acos", "asin", "atan", "ceil", "floor", "round", "sqrt", "token", "secret"], 5))
        g.add("neg", "highlighter", "src/mode/sql_highlight_rules.js", [f'"support.function.secret": "{words}",'], 1)
    for _ in range(6):
        g.add("neg", "route", "config/routes.rb", ['get "/disk/:encoded_token/*filename" => "active_storage/disk#show", as: :disk'], 1)
    for _ in range(6):
        g.add("neg", "id-map", "lib/resources.json", [f'"AWS::ApiGateway::ApiKey": "{g.rand("0123456789abcdef", 16)}",'], 1)
    for _ in range(8):
        g.add("neg", "i18n", "locales/fr.json", [r.choice(['"password": "Mot de passe",', '"password_hint": "Au moins 8 caractères",', '"token_expired": "Session expirée"'])], 1)
    for _ in range(20):
        g.add("neg", "tutorial-password", r.choice(["config/app.yml", ".env"]),
              [f"password: {r.choice(['password123', 'P@ssw0rd!', 'Sup3rS3cr3t2024', 'admin1234', 'letmein!', 'Welcome2024!', 'hunter22', 'secret123'])}"], 1)
    for _ in range(15):
        g.add("neg", "identifier", r.choice(["config/app.yml", "src/app.ts"]),
              [r.choice(["password: buildBotAccount", "secret_name: my-app-secret", 'tokenType: "refreshToken"',
                         "password_field: user_password_confirmation", "secret: AZURE_SUBSCRIPTION_ID",
                         'apiKey: "API_KEY_HEADER_NAME"'])], 1)
    for _ in range(8):
        g.add("neg", "hash-values", "db/seeds.rb",
              [f'password_digest: "$2a$12${g.rand(ALNUM + "./", 53)}"'], 1)
    for _ in range(6):
        g.add("neg", "k8s-configmap", "k8s/configmap.yaml",
              ["apiVersion: v1", "kind: ConfigMap", "data:", f"  password_file: /run/secrets/db"], 4)
    for _ in range(6):
        g.add("neg", "k8s-weak-data", "k8s/secret.yaml",
              ["apiVersion: v1", "kind: Secret", "data:", f"  password: {b64(r.choice(['changeme', 'password', 'admin', 'postgres']))}"], 4)
    for _ in range(6):
        g.add("neg", "basic-weak", "api.http", [f"Authorization: Basic {b64('admin:' + r.choice(['admin', 'password', 'secret123']))}"], 1)
    for _ in range(6):
        g.add("neg", "curl-env", "scripts/deploy.sh", ['curl -u "$CI_USER:$CI_PASS" https://' + g.host("ci") + "/api"], 1)
    for _ in range(5):
        g.add("neg", "compose-default", "docker-compose.yml",
              ["services:", "  db:", "    environment:", "      POSTGRES_PASSWORD: postgres"], 4)


def positives_probe(g):
    """Shapes of the third round (probe misses): space-separated
    `password "…"` in mail clients' configs, hex tokens under token-named
    keys, comparisons with the literal first, `pass` / `db_pass` /
    `dbpass` keys."""
    r = g.r
    for _ in range(4):
        g.add("pos", "esmtprc", r.choice([".esmtprc", "home/ops/.esmtprc"]),
              [f"hostname {g.host('smtp')}:587", f'username "{g.user()}"', f'password "{g.password()}"', "starttls required"], 3)
    for _ in range(3):
        g.add("pos", "msmtprc", ".msmtprc",
              ["account default", f"host {g.host('smtp')}", "auth on", f"user {g.user()}", f"password {g.alnum()}"], 5)
    for _ in range(3):
        g.add("pos", "fetchmailrc", ".fetchmailrc",
              [f'poll {g.host("mail")} protocol imap user "{g.user()}" password "{g.password()}" is {g.user()} here'], 1)
    for _ in range(4):
        key = r.choice(["BITLY_ACCESS_TOKEN", "ACCESS_TOKEN", "SENTRY_AUTH_TOKEN", "MAILGUN_API_KEY", "API_TOKEN"])
        g.add("pos", "hex-token-env", ".env", ["# services", f"{key}={g.hex(r.choice([32, 40, 64]))}"], 2)
    for _ in range(4):
        g.add("pos", "hex-token-hub", ".config/hub",
              ["github.com:", f"- user: {g.user()}", f"  oauth_token: {g.hex(40)}", "  protocol: https"], 3)
    for _ in range(4):
        key = r.choice(["api_key", "access_token", "apiKey", "auth_token"])
        g.add("pos", "hex-token-yaml", r.choice(["config/services.yml", "config/app.json"]),
              ["analytics:", f'  {key}: "{g.hex(r.choice([40, 64]))}"'], 2)
    for _ in range(4):
        style = r.choice(["go", "js", "ruby", "py"])
        pw = g.password()
        if style == "go":
            g.add("pos", "compare-reversed", "internal/auth/admin.go", [f'if "{pw}" == password {{', "\treturn true", "}"], 1)
        elif style == "js":
            g.add("pos", "compare-reversed", "src/routes/admin.js", [f"if ('{pw}' === req.body.password) {{", "  next();", "}"], 1)
        elif style == "ruby":
            g.add("pos", "compare-reversed", "app/controllers/admin_controller.rb", [f'if "{pw}" == params[:password]', "  login!", "end"], 1)
        else:
            g.add("pos", "compare-reversed", "app/auth.py", [f'if "{pw}" != self.password:', "    raise Denied()"], 1)
    for _ in range(6):
        kind = r.choice(["yml", "env", "php", "ini", "env2"])
        if kind == "yml":
            g.add("pos", "pass-key", "config/database.yml", ["production:", f"  db_pass: {g.short()}"], 2)
        elif kind == "env":
            g.add("pos", "pass-key", ".env", ["# database", f"DBPASS={g.alnum()}"], 2)
        elif kind == "env2":
            g.add("pos", "pass-key", ".env", ["# mail", f"SMTP_PASS={g.password()}"], 2)
        elif kind == "php":
            g.add("pos", "pass-key", "config.php", ["<?php", f"$dbhost = '{g.host()}';", f"$dbpass = '{g.password()}';"], 3)
        else:
            g.add("pos", "pass-key", "conf/app.ini", ["[database]", f"host = {g.host()}", f"pass = {g.alnum()}"], 3)


def negatives_probe(g):
    r = g.r
    for _ in range(8):
        key = r.choice(["commit_sha", "token_hash", "checksum", "integrity", "etag", "revision", "csrf_token",
                        "next_page_token", "commit_token", "sync_token", "cache_token"])
        g.add("neg", "hex-hash-key", r.choice(["config/app.yml", "data/state.json", ".env"]),
              [f'{key}: "{g.hex(r.choice([32, 40, 64]))}"'], 1)
    for _ in range(4):
        path = r.choice(["package-lock.json", "web/yarn.lock", "Pipfile.lock", "composer.lock"])
        g.add("neg", "lock-hex-token", path, ["{", f'      "token": "{g.hex(r.choice([40, 64]))}"', "}"], 2)
    for _ in range(6):
        line = r.choice([
            f'if "{g.password()}" == password_hash {{',
            f'if "{g.password()}" == passwordHash {{',
            'if "changeme" == password {',
            'assert "password" == field.name',
            'if "" == password {',
        ])
        g.add("neg", "compare-not-password", "src/auth.go", [line], 1)
    for _ in range(3):
        g.add("neg", "compare-doc", "src/lib.rs", ["/// ```", f'/// if "{g.password()}" == password {{', "/// ```", "fn check() {}"], 2)
    for _ in range(6):
        line = r.choice([f"bypass: {g.alnum()}", f'compass_heading = "{g.alnum()}"', f"passport_no: {g.alnum()}",
                         "db_pass: ${DB_PASS}", 'pass = os.environ["DB_PASS"]', "SMTP_PASS=changeme"])
        g.add("neg", "pass-key-lookalike", r.choice(["config/app.yml", ".env", "app/settings.py"]), [line], 1)
    for _ in range(6):
        lines = r.choice([
            ["account default", 'password "changeme"'],
            ["account default", "password ${SMTP_PASSWORD}"],
            ["account default", 'passwordeval "gpg --quiet --decrypt ~/.msmtp-password.gpg"'],
            ["interface Vlan1", "password 7 0822455D0A16"],
            ["Notes", "Password Hashing And Storage"],
        ])
        g.add("neg", "space-password-lookalike", r.choice([".msmtprc", "notes/setup.txt", "router.cfg"]), lines, 2)


def main():
    os.makedirs(OUT, exist_ok=True)
    for split, seed in [("tune", 13), ("holdout", 1313)]:
        g = Gen(split, seed)
        positives(g)
        negatives(g)
        positives_more(g)
        negatives_more(g)
        positives_probe(g)
        negatives_probe(g)
        path = os.path.join(OUT, f"{split}.jsonl")
        with open(path, "w") as f:
            for rec in g.records:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
        pos = sum(r["label"] == "pos" for r in g.records)
        print(f"{path}: {pos} positive, {len(g.records) - pos} negative", file=sys.stderr)


if __name__ == "__main__":
    main()
