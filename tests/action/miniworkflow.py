#!/usr/bin/env python3
"""Runs a reusable workflow (`on: workflow_call`) offline, job by job.

Built on minirunner.py's expression evaluator and step runner rules: jobs
run in `needs` order, each matrix entry (strategy.matrix, with fromJSON)
as its own job in a fresh workspace and RUNNER_TEMP; job-level `if`
(success() means every needed job succeeded), job and workflow outputs,
`needs.<job>.result/outputs`, `inputs` (typed defaults) and `secrets`.
`run:` steps run with `bash --noprofile --norc -eo pipefail` as the
runner does; a `${{ }}` inside `run:` is refused (template injection).
actions/upload-artifact and actions/download-artifact are emulated on a
local artifact store (name, path, pattern, merge-multiple,
if-no-files-found; an artifact name may be uploaded once); any other
`uses:` is an error.

Usage: miniworkflow.py WORKFLOW REPORT_JSON WORKDIR [--input NAME=VALUE]...
       [--secret NAME=VALUE]...
Artifacts end up in WORKDIR/artifacts/NAME/. Exit status: 0 if every job
succeeded, 1 if not.
"""

import fnmatch
import itertools
import json
import os
import shutil
import subprocess
import sys
import uuid

from ruamel.yaml import YAML

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minirunner import (  # noqa: E402
    EMBED,
    ExprError,
    condition,
    evaluate,
    interpolate,
    parse_file_commands,
    workflow_commands,
)


def typed(spec, value):
    kind = (spec or {}).get("type", "string")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() not in ("true", "false"):
            raise SystemExit(f"input expects a boolean, got {value!r}")
        return str(value).lower() == "true"
    if kind == "number":
        f = float(value)
        return int(f) if f.is_integer() else f
    return "" if value is None else str(value)


def whole_expr(v, ctx):
    """A value that is one `${{ }}` keeps its type (fromJSON lists)."""
    if isinstance(v, str):
        s = v.strip()
        if s.startswith("${{") and s.endswith("}}") and s.count("${{") == 1:
            return evaluate(s[3:-2], ctx)
        return interpolate(v, ctx)
    if isinstance(v, list):
        return [whole_expr(x, ctx) for x in v]
    return v


def order(jobs):
    done, out = set(), []
    while len(out) < len(jobs):
        ready = [
            j for j, spec in jobs.items()
            if j not in done and all(n in done for n in needs_of(spec))
        ]
        if not ready:
            raise SystemExit("jobs' needs form a cycle or name a missing job")
        for j in ready:
            done.add(j)
            out.append(j)
    return out


def needs_of(spec):
    n = spec.get("needs") or []
    return [n] if isinstance(n, str) else list(n)


def files_under(path):
    if os.path.isdir(path):
        for dirpath, _, names in os.walk(path):
            for n in names:
                yield os.path.join(dirpath, n)
    elif os.path.exists(path):
        yield path


def upload(store, with_, ws):
    name = with_.get("name") or "artifact"
    dest = os.path.join(store, name)
    if os.path.exists(dest):
        raise RuntimeError(f"artifact {name!r} was already uploaded")
    paths = [p.strip() for p in with_.get("path", "").splitlines() if p.strip()]
    roots, files = [], []
    for p in paths:
        full = os.path.normpath(os.path.join(ws, p))
        roots.append(full if os.path.isdir(full) else os.path.dirname(full))
        files += list(files_under(full))
    if not files:
        if with_.get("if-no-files-found", "warn") == "error":
            raise RuntimeError(f"no files found for artifact {name!r}: {paths}")
        return []
    base = os.path.commonpath(roots)
    stored = []
    for f in files:
        rel = os.path.relpath(f, base)
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(f, os.path.join(dest, rel))
        stored.append(rel)
    return sorted(stored)


def download(store, with_, ws):
    target = os.path.normpath(os.path.join(ws, with_.get("path") or "."))
    if with_.get("name"):
        names = [with_["name"]]
        if not os.path.isdir(os.path.join(store, names[0])):
            raise RuntimeError(f"artifact {names[0]!r} not found")
        merge = True
    else:
        pattern = with_.get("pattern") or "*"
        names = sorted(n for n in os.listdir(store) if fnmatch.fnmatch(n, pattern))
        merge = str(with_.get("merge-multiple", "false")).lower() == "true"
    for n in names:
        dst = target if merge else os.path.join(target, n)
        shutil.copytree(os.path.join(store, n), dst, dirs_exist_ok=True)
    return names


def run_job(job_id, spec, ctx_base, env_base, work, store, index):
    ws = os.path.join(work, "jobs", f"{job_id}-{index}", "workspace")
    temp = os.path.join(work, "jobs", f"{job_id}-{index}", "temp")
    os.makedirs(ws)
    os.makedirs(temp)
    summary_file = os.path.join(temp, "step-summary.md")
    open(summary_file, "w").close()
    ctx = dict(ctx_base)
    ctx["steps"] = {}
    ctx["runner"] = {"os": "Linux", "arch": "X64", "temp": temp}
    ctx["github"] = dict(ctx_base["github"], workspace=ws)
    ctx["env"] = {}
    status = "success"
    steps = []
    extra_env, extra_path = {}, []
    for n, step in enumerate(spec.get("steps") or []):
        sid = step.get("id", f"__step{n}")
        entry = {"id": sid, "name": step.get("name", "")}
        if not condition(step.get("if"), ctx, status):
            entry["outcome"] = "skipped"
            ctx["steps"][sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            steps.append(entry)
            continue
        if "uses" in step:
            uses = step["uses"].split("@")[0]
            with_ = {k: interpolate(v, ctx, status) for k, v in (step.get("with") or {}).items()}
            entry.update(kind="uses", uses=step["uses"], **{"with": with_})
            try:
                if uses == "actions/upload-artifact":
                    entry["files"] = upload(store, with_, ws)
                elif uses == "actions/download-artifact":
                    entry["artifacts"] = download(store, with_, ws)
                else:
                    raise SystemExit(f"step {sid}: {uses} is not emulated")
                outcome = "success"
            except RuntimeError as e:
                entry["error"] = str(e)
                outcome = "failure"
        else:
            if step.get("shell") != "bash":
                raise SystemExit(f"job {job_id} step {sid}: only `shell: bash` is supported")
            script = step["run"]
            if EMBED.search(script):
                raise SystemExit(f"job {job_id} step {sid}: `${{{{ }}}}` inside run: (template injection)")
            step_env = dict(env_base)
            step_env.update(extra_env)
            step_env["RUNNER_TEMP"] = temp
            step_env["GITHUB_WORKSPACE"] = ws
            if extra_path:
                step_env["PATH"] = os.pathsep.join(extra_path[::-1] + [step_env.get("PATH", "")])
            for k, v in (step.get("env") or {}).items():
                step_env[k] = interpolate(v, ctx, status)
            files = {}
            for var in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"):
                p = os.path.join(temp, f"{var.lower()}-{uuid.uuid4().hex}")
                open(p, "w").close()
                files[var] = p
                step_env[var] = p
            step_env["GITHUB_STEP_SUMMARY"] = summary_file
            step_env["GITHUB_ACTIONS"] = "true"
            script_path = os.path.join(temp, f"step-{uuid.uuid4().hex}.sh")
            with open(script_path, "w", encoding="utf-8") as f:
                f.write(script)
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", script_path],
                env=step_env, cwd=ws, capture_output=True, text=True,
            )
            outputs = parse_file_commands(files["GITHUB_OUTPUT"])
            extra_env.update(parse_file_commands(files["GITHUB_ENV"]))
            with open(files["GITHUB_PATH"], encoding="utf-8") as f:
                extra_path += [l for l in f.read().splitlines() if l]
            outcome = "success" if proc.returncode == 0 else "failure"
            entry.update(kind="run", exit_code=proc.returncode, stdout=proc.stdout,
                         stderr=proc.stderr, outputs=outputs,
                         commands=workflow_commands(proc.stdout) + workflow_commands(proc.stderr))
            ctx["steps"][sid] = {"outputs": outputs}
        if outcome == "failure":
            status = "failure"
        ctx["steps"].setdefault(sid, {"outputs": {}})
        ctx["steps"][sid].update(outcome=outcome, conclusion=outcome)
        entry["outcome"] = outcome
        steps.append(entry)
    outputs = {k: interpolate(v, ctx, status) for k, v in (spec.get("outputs") or {}).items()}
    with open(summary_file, encoding="utf-8") as f:
        summary = f.read()
    return status, outputs, steps, summary


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        raise SystemExit(__doc__)
    wf_path, report_path, work = args[0], args[1], os.path.abspath(args[2])
    given_inputs, secrets = {}, {}
    rest = args[3:]
    while rest:
        if rest[0] not in ("--input", "--secret") or len(rest) < 2 or "=" not in rest[1]:
            raise SystemExit(f"bad argument {rest[0]!r}")
        k, v = rest[1].split("=", 1)
        (given_inputs if rest[0] == "--input" else secrets)[k] = v
        rest = rest[2:]

    with open(wf_path, encoding="utf-8") as f:
        wf = YAML(typ="safe").load(f)
    on = wf.get("on") or wf.get(True)
    call = (on or {}).get("workflow_call")
    if call is None:
        raise SystemExit("not a reusable workflow (on: workflow_call)")
    inputs = {}
    for name, spec in (call.get("inputs") or {}).items():
        if name in given_inputs:
            inputs[name] = typed(spec, given_inputs.pop(name))
        elif spec.get("required"):
            raise SystemExit(f"input {name!r} is required")
        else:
            inputs[name] = typed(spec, spec.get("default"))
    if given_inputs:
        raise SystemExit(f"unknown inputs {sorted(given_inputs)}")
    for name, spec in (call.get("secrets") or {}).items():
        if (spec or {}).get("required") and name not in secrets:
            raise SystemExit(f"secret {name!r} is required")

    os.makedirs(work, exist_ok=True)
    store = os.path.join(work, "artifacts")
    os.makedirs(store, exist_ok=True)
    env_base = dict(os.environ)
    for k in [k for k in env_base if k.startswith("GITHUB_")]:
        del env_base[k]
    base_ctx = {
        "github": {"event_name": "workflow_call", "repository": "acme/security", "token": "minirunner-token"},
        "inputs": inputs,
        "secrets": secrets,
        "needs": {},
        "matrix": {},
        "strategy": {},
        "env": {},
        "steps": {},
        "jobs": {},
    }
    results, report_jobs = {}, []
    for job_id in order(wf["jobs"]):
        spec = wf["jobs"][job_id]
        needs = {n: results[n] for n in needs_of(spec)}
        ctx = dict(base_ctx, needs=needs)
        dep_status = "success" if all(r["result"] == "success" for r in needs.values()) else "failure"
        if not condition(spec.get("if"), ctx, dep_status):
            results[job_id] = {"result": "skipped", "outputs": {}}
            report_jobs.append({"job": job_id, "status": "skipped"})
            continue
        matrix = (spec.get("strategy") or {}).get("matrix")
        combos = [{}]
        if matrix is not None:
            matrix = whole_expr(matrix, ctx)
            if not isinstance(matrix, dict) or {"include", "exclude"} & set(matrix):
                raise SystemExit(f"job {job_id}: only a plain matrix of lists is supported")
            keys = list(matrix)
            values = [whole_expr(matrix[k], ctx) for k in keys]
            combos = [dict(zip(keys, vs)) for vs in itertools.product(*values)]
        statuses, outputs = [], {}
        for i, combo in enumerate(combos):
            jctx = dict(ctx, matrix=combo)
            status, outs, steps, summary = run_job(job_id, spec, jctx, env_base, work, store, i)
            statuses.append(status)
            outputs.update({k: v for k, v in outs.items() if v != ""})
            report_jobs.append({
                "job": job_id,
                "name": interpolate(spec.get("name", job_id), jctx),
                "matrix": combo,
                "status": status,
                "steps": steps,
                "outputs": outs,
                "summary": summary,
            })
        result = "success" if all(s == "success" for s in statuses) else "failure"
        results[job_id] = {"result": result, "outputs": outputs}
    base_ctx["jobs"] = results
    wf_outputs = {k: interpolate(v.get("value", ""), base_ctx) for k, v in (call.get("outputs") or {}).items()}
    status = "success" if all(r["result"] in ("success", "skipped") for r in results.values()) else "failure"
    artifacts = {
        n: sorted(os.path.relpath(f, os.path.join(store, n)) for f in files_under(os.path.join(store, n)))
        for n in sorted(os.listdir(store))
    }
    report = {"status": status, "jobs": report_jobs, "results": results,
              "outputs": wf_outputs, "artifacts": artifacts, "store": store}
    with open(report_path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    sys.exit(0 if status == "success" else 1)


if __name__ == "__main__":
    try:
        main()
    except ExprError as e:
        raise SystemExit(f"expression error: {e}")
