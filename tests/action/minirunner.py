#!/usr/bin/env python3
"""A small GitHub Actions runner for testing a composite action offline.

It evaluates the `${{ }}` expressions the action uses (contexts, literals,
==, !=, &&, ||, !, parentheses, always(), success(), failure(),
cancelled(), contains(), startsWith(), endsWith(), toJson(), fromJSON(); anything else
is an error), runs each `run:` step with `bash --noprofile --norc -eo
pipefail` as the runner does for `shell: bash`, handles GITHUB_OUTPUT,
GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY, and records `uses:` steps
with their evaluated inputs instead of running them.

Usage: minirunner.py ACTION_DIR REPORT_JSON [--input NAME=VALUE]...
The runner's context comes from the environment (GITHUB_WORKSPACE,
GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_SHA, GITHUB_ACTION_REF, GITHUB_REPOSITORY,
RUNNER_TEMP, RUNNER_OS, RUNNER_ARCH, HOME, PATH). Exit status: 0 if the job succeeded, 1 if not.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid

from ruamel.yaml import YAML


class ExprError(Exception):
    pass


TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||<=|>=|[!()<>,\[\]])"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*))"
)


def tokenize(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"cannot parse expression at {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


def truthy(v):
    if v is None or v is False:
        return False
    if v == "" or v == 0:
        return False
    return True


def to_str(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, indent=2)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def loose_eq(a, b):
    # GitHub compares case-insensitively for strings and coerces otherwise.
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b):
        return a == b

    def num(x):
        if x is None:
            return 0
        if isinstance(x, bool):
            return 1 if x else 0
        if isinstance(x, (int, float)):
            return x
        if isinstance(x, str):
            try:
                return float(x) if x.strip() else 0
            except ValueError:
                return float("nan")
        return float("nan")

    return num(a) == num(b)


class Parser:
    def __init__(self, tokens, ctx, status):
        self.t, self.i, self.ctx, self.status = tokens, 0, ctx, status

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise ExprError(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self):
        v = self.or_()
        if self.i != len(self.t):
            raise ExprError(f"unexpected {self.peek()[1]!r}")
        return v

    def or_(self):
        v = self.and_()
        while self.peek()[1] == "||":
            self.take()
            r = self.and_()
            v = v if truthy(v) else r
        return v

    def and_(self):
        v = self.cmp()
        while self.peek()[1] == "&&":
            self.take()
            r = self.cmp()
            v = r if truthy(v) else v
        return v

    def cmp(self):
        v = self.unary()
        while self.peek()[1] in ("==", "!="):
            op = self.take()[1]
            r = self.unary()
            v = loose_eq(v, r) if op == "==" else not loose_eq(v, r)
        return v

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        kind, val = self.take()
        if kind == "str":
            return val[1:-1].replace("''", "'")
        if kind == "num":
            return float(val)
        if val == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind == "ident":
            if self.peek()[1] == "(":
                return self.call(val)
            if val == "true":
                return True
            if val == "false":
                return False
            if val == "null":
                return None
            return self.lookup(val)
        raise ExprError(f"unexpected {val!r}")

    def call(self, name):
        self.take("(")
        args = []
        if self.peek()[1] != ")":
            args.append(self.or_())
            while self.peek()[1] == ",":
                self.take()
                args.append(self.or_())
        self.take(")")
        n = name.lower()
        if n == "always":
            return True
        if n == "success":
            return self.status == "success"
        if n == "failure":
            return self.status == "failure"
        if n == "cancelled":
            return False
        if n == "contains":
            hay, needle = args
            if isinstance(hay, list):
                return any(loose_eq(x, needle) for x in hay)
            return to_str(needle).lower() in to_str(hay).lower()
        if n == "startswith":
            return to_str(args[0]).lower().startswith(to_str(args[1]).lower())
        if n == "endswith":
            return to_str(args[0]).lower().endswith(to_str(args[1]).lower())
        if n == "tojson":
            return json.dumps(args[0], indent=2)
        if n == "fromjson":
            return json.loads(to_str(args[0]))
        raise ExprError(f"function {name}() is not supported by the mini runner")

    def lookup(self, path):
        parts = path.split(".")
        if parts[0] not in self.ctx:
            raise ExprError(f"unknown context {parts[0]!r}")
        v = self.ctx[parts[0]]
        for p in parts[1:]:
            if isinstance(v, dict):
                v = v.get(p)
            else:
                return None
        return v


def evaluate(expr, ctx, status="success"):
    return Parser(tokenize(expr), ctx, status).parse()


EMBED = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def interpolate(text, ctx, status="success"):
    if text is None:
        return ""
    text = str(text)
    return EMBED.sub(lambda m: to_str(evaluate(m.group(1), ctx, status)), text)


def condition(expr, ctx, status):
    if expr is None:
        return status == "success"
    expr = str(expr).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", expr, re.S)
    if m:
        expr = m.group(1)
    # A condition without a status function implies success() &&.
    if not re.search(r"\b(always|success|failure|cancelled)\s*\(", expr):
        return status == "success" and truthy(evaluate(expr, ctx, status))
    return truthy(evaluate(expr, ctx, status))


def parse_file_commands(path):
    """name=value lines and name<<DELIM blocks."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line:
            name, delim = line.split("<<", 1)
            value = []
            while i < len(lines) and lines[i] != delim:
                value.append(lines[i])
                i += 1
            if i >= len(lines):
                raise SystemExit(f"unterminated {name} in {path}")
            i += 1
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise SystemExit(f"bad line in {path}: {line!r}")
    return out


COMMAND = re.compile(r"^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$")


def workflow_commands(text):
    cmds = []
    for line in text.splitlines():
        m = COMMAND.match(line.lstrip())
        if m:
            cmds.append({"command": m.group(1), "properties": m.group(2) or "", "message": m.group(3)})
    return cmds


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        raise SystemExit(__doc__)
    action_dir, report_path = os.path.abspath(args[0]), args[1]
    overrides = {}
    rest = args[2:]
    while rest:
        if rest[0] != "--input" or len(rest) < 2 or "=" not in rest[1]:
            raise SystemExit(f"bad argument {rest[0]!r}")
        k, v = rest[1].split("=", 1)
        overrides[k] = v
        rest = rest[2:]

    yaml = YAML(typ="safe")
    with open(os.path.join(action_dir, "action.yml"), encoding="utf-8") as f:
        action = yaml.load(f)
    if action["runs"]["using"] != "composite":
        raise SystemExit("only composite actions are supported")

    env = dict(os.environ)
    temp = env.setdefault("RUNNER_TEMP", tempfile.mkdtemp(prefix="runner-temp-"))
    ctx = {
        "github": {
            "workspace": env["GITHUB_WORKSPACE"],
            "event_name": env["GITHUB_EVENT_NAME"],
            "event_path": env["GITHUB_EVENT_PATH"],
            "sha": env["GITHUB_SHA"],
            "action_path": action_dir,
            "action_ref": env.get("GITHUB_ACTION_REF", ""),
            "repository": env.get("GITHUB_REPOSITORY", ""),
            "token": "minirunner-token",
        },
        "runner": {
            "os": env.get("RUNNER_OS", "Linux"),
            "arch": env.get("RUNNER_ARCH", "X64"),
            "temp": temp,
            "tool_cache": os.path.join(temp, "tool-cache"),
        },
        "env": {},
        "steps": {},
        "inputs": {},
    }
    with open(env["GITHUB_EVENT_PATH"], encoding="utf-8") as f:
        ctx["github"]["event"] = json.load(f)

    for name, spec in (action.get("inputs") or {}).items():
        if name in overrides:
            ctx["inputs"][name] = overrides.pop(name)
        else:
            ctx["inputs"][name] = interpolate(spec.get("default", ""), ctx)
    if overrides:
        raise SystemExit(f"unknown inputs {sorted(overrides)}")

    summary_file = os.path.join(temp, "step-summary.md")
    open(summary_file, "w").close()
    extra_env, extra_path = {}, []
    status = "success"
    report = {"steps": [], "uses": [], "summary": "", "commands": []}

    for n, step in enumerate(action["runs"]["steps"]):
        sid = step.get("id", f"__step{n}")
        entry = {"id": sid, "name": step.get("name", "")}
        if not condition(step.get("if"), ctx, status):
            entry["outcome"] = "skipped"
            ctx["steps"][sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            report["steps"].append(entry)
            continue
        if "uses" in step:
            with_ = {k: interpolate(v, ctx, status) for k, v in (step.get("with") or {}).items()}
            report["uses"].append({"id": sid, "uses": step["uses"], "with": with_})
            entry.update(kind="uses", outcome="success")
            ctx["steps"][sid] = {"outputs": {}, "outcome": "success", "conclusion": "success"}
            report["steps"].append(entry)
            continue
        if step.get("shell") != "bash":
            raise SystemExit(f"step {sid}: only `shell: bash` is supported")
        script = step["run"]
        if EMBED.search(script):
            raise SystemExit(f"step {sid}: `${{{{ }}}}` inside run: (template injection)")
        step_env = dict(env)
        step_env.update(extra_env)
        if extra_path:
            step_env["PATH"] = os.pathsep.join(extra_path[::-1] + [step_env.get("PATH", "")])
        for k, v in (step.get("env") or {}).items():
            step_env[k] = interpolate(v, ctx, status)
        files = {}
        for var in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"):
            fd, p = tempfile.mkstemp(prefix=var.lower() + "-", dir=temp)
            os.close(fd)
            files[var] = p
            step_env[var] = p
        step_env["GITHUB_STEP_SUMMARY"] = summary_file
        step_env["GITHUB_ACTION_PATH"] = action_dir
        step_env["GITHUB_ACTIONS"] = "true"
        script_path = os.path.join(temp, f"step-{uuid.uuid4().hex}.sh")
        with open(script_path, "w", encoding="utf-8") as f:
            f.write(script)
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", script_path],
            env=step_env,
            cwd=env["GITHUB_WORKSPACE"],
            capture_output=True,
            text=True,
        )
        outputs = parse_file_commands(files["GITHUB_OUTPUT"])
        extra_env.update(parse_file_commands(files["GITHUB_ENV"]))
        if os.path.exists(files["GITHUB_PATH"]):
            with open(files["GITHUB_PATH"], encoding="utf-8") as f:
                extra_path += [l for l in f.read().splitlines() if l]
        outcome = "success" if proc.returncode == 0 else "failure"
        if outcome == "failure":
            status = "failure"
        ctx["steps"][sid] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
        entry.update(
            kind="run",
            outcome=outcome,
            exit_code=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            outputs=outputs,
        )
        report["commands"] += workflow_commands(proc.stdout) + workflow_commands(proc.stderr)
        report["steps"].append(entry)

    report["outputs"] = {
        name: interpolate(spec.get("value", ""), ctx, status)
        for name, spec in (action.get("outputs") or {}).items()
    }
    with open(summary_file, encoding="utf-8") as f:
        report["summary"] = f.read()
    report["status"] = status
    with open(report_path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    sys.exit(0 if status == "success" else 1)


if __name__ == "__main__":
    try:
        main()
    except ExprError as e:
        raise SystemExit(f"expression error: {e}")
