#!/usr/bin/env python3
"""The pipeline's CI files only call the stage scripts: a test.

  check-pipeline.py [--root DIR]     checks DIR/.gitlab-ci.yml and DIR/Jenkinsfile (default: the repository)
  check-pipeline.py --self-test      also shows that broken CI files are rejected

For every GitLab job (before_script, script, after_script, also inherited from `default:` and `extends:`) and every
Jenkins `sh` step, each command must be a call of a script under scripts/ (optionally after VAR=value
assignments, with plain arguments): no inline shell. Every script named must exist, be executable, pass
`bash -n` and `shellcheck -x`. Jenkins may use no other shell step (bat, powershell). The stages must come in the
order test, build, push, deploy staging, smoke, production canary (manual), promote / roll back.
Ends with `N passed, N failed`. Needs PyYAML and shellcheck.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

GITLAB_KEYWORDS = {"stages", "variables", "default", "workflow", "include", "image", "services", "before_script",
                   "after_script", "cache", "pages"}
# VAR=value ... scripts/NAME [args]; values and args are plain words ($VAR allowed): no ; & | ( ) ` < > or quotes.
WORD = r"[\w./:=@,${}+-]*"
CALL = re.compile(rf"^(?:[A-Za-z_]\w*={WORD}\s+)*(scripts/[\w.-]+\.sh)(?:\s+{WORD})*$")
ORDER = ["test", "build", "push", "deploy-staging", "smoke", "canary", "promote", "rollback"]


class Checks:
    def __init__(self):
        self.passed, self.failed = 0, []

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
        return ok


def script_of(command):
    """The script a command line calls, or None when the line is anything else."""
    match = CALL.match(command.strip())
    if not match:
        return None
    try:
        shlex.split(command)
    except ValueError:
        return None
    return match.group(1)


def gitlab_commands(path):
    config = yaml.safe_load(open(path))
    default = config.get("default", {}) or {}
    jobs = {k: v for k, v in config.items() if k not in GITLAB_KEYWORDS and isinstance(v, dict)}

    def resolved(name, seen=()):
        job = dict(jobs[name])
        parents = job.get("extends", [])
        for parent in [parents] if isinstance(parents, str) else parents:
            if parent in seen:
                raise SystemExit(f"extends loop at {parent}")
            job = {**resolved(parent, seen + (parent,)), **job}
        return job

    out = {}
    for name in (n for n in jobs if not n.startswith(".")):
        job = resolved(name)
        lines = []
        for key in ("before_script", "script", "after_script"):
            value = job.get(key, default.get(key, config.get(key, [])))
            lines += [value] if isinstance(value, str) else list(value or [])
        out[name] = (job, lines)
    return config, out


def jenkins_commands(path):
    text = open(path).read()
    text_no_comments = re.sub(r"(?m)^\s*//.*$", "", text)
    others = re.findall(r"\b(bat|powershell|pwsh)\s*[('\"]", text_no_comments)
    steps = []
    calls = len(re.findall(r"(?<![\w.-])sh\s*[('\"]", text_no_comments))
    for match in re.finditer(r"(?<![\w.-])sh\s*\(?\s*(?:script\s*:\s*)?('''|\"\"\"|'|\")(.*?)\1", text_no_comments, re.S):
        steps.append(match.group(2))
    stages = re.findall(r"\bstage\s*\(\s*['\"]([^'\"]+)['\"]", text_no_comments)
    if calls != len(steps):
        steps.append(f"<{calls - len(steps)} sh step(s) this check cannot read>")
    return steps, others, stages, text_no_comments


def check_script(checks, root, script, where, cache):
    if script in cache:
        return checks.check(cache[script], f"{where}: {script} fails bash -n or shellcheck")
    path = os.path.join(root, script)
    ok = checks.check(os.path.isfile(path), f"{where}: {script} does not exist")
    ok = ok and checks.check(os.access(path, os.X_OK), f"{where}: {script} is not executable")
    if ok:
        syntax = subprocess.run(["bash", "-n", path], capture_output=True, text=True)
        ok = checks.check(syntax.returncode == 0, f"{where}: bash -n {script}: {syntax.stderr.strip()}")
    if ok:
        lint = subprocess.run(["shellcheck", "-x", script], cwd=root, capture_output=True, text=True)
        ok = checks.check(lint.returncode == 0, f"{where}: shellcheck {script}:\n{lint.stdout}")
    cache[script] = ok
    return ok


def check_commands(checks, root, where, commands, cache):
    checks.check(commands, f"{where}: runs no command")
    for command in commands:
        script = script_of(command)
        if checks.check(script is not None, f"{where}: `{command}` is not a call of a script in scripts/"):
            check_script(checks, root, script, where, cache)


def stage_of(name):
    name = name.lower()
    for key, words in (("test", ("rehears",)), ("rollback", ("roll", "abort")), ("promote", ("promot",)),
                       ("canary", ("canary",)), ("smoke", ("smoke",)), ("deploy-staging", ("staging",)),
                       ("push", ("push",)), ("build", ("build",)), ("test", ("test", "lint"))):
        if any(w in name for w in words):
            return key
    return None


def check_order(checks, where, names):
    kinds = [k for k in (stage_of(n) for n in names) if k]
    for kind in ORDER:
        checks.check(kind in kinds, f"{where}: no {kind} stage")
    positions = [ORDER.index(k) for k in kinds]
    checks.check(positions == sorted(positions), f"{where}: stages out of order: {kinds}")


def check_root(root):
    checks, cache = Checks(), {}
    gitlab = os.path.join(root, ".gitlab-ci.yml")
    if checks.check(os.path.isfile(gitlab), ".gitlab-ci.yml is missing"):
        config, jobs = gitlab_commands(gitlab)
        for name, (job, commands) in jobs.items():
            check_commands(checks, root, f".gitlab-ci.yml job {name}", commands, cache)
        stages = config.get("stages", [])
        checks.check(all(job.get("stage", "test") in stages for job, _ in jobs.values()),
                     ".gitlab-ci.yml: a job names a stage not in `stages`")
        by_stage = sorted(jobs, key=lambda n: stages.index(jobs[n][0].get("stage", "test"))
                          if jobs[n][0].get("stage", "test") in stages else len(stages))
        check_order(checks, ".gitlab-ci.yml", by_stage)
        canary = [j for n, (j, _) in jobs.items() if stage_of(n) == "canary"]
        manual = [j for j in canary if j.get("when") == "manual" or any(
            r.get("when") == "manual" for r in j.get("rules", []))]
        checks.check(manual, ".gitlab-ci.yml: the production canary has no manual approval (when: manual)")
    jenkins = os.path.join(root, "Jenkinsfile")
    if checks.check(os.path.isfile(jenkins), "Jenkinsfile is missing"):
        steps, others, stages, text = jenkins_commands(jenkins)
        checks.check(not others, f"Jenkinsfile: shell steps other than sh: {others}")
        check_commands(checks, root, "Jenkinsfile", steps, cache)
        check_order(checks, "Jenkinsfile", stages)
        checks.check(re.search(r"\binput\s*\{|\binput\s*\(|\binput\s+message", text) is not None,
                     "Jenkinsfile: the production canary has no manual approval (input)")
    return checks


def self_test(root):
    """Broken CI files must be rejected: each case below must produce at least one failure."""
    cases = {
        "inline shell": ("job: {stage: test, script: ['cargo test']}", "sh 'scripts/ci-test.sh'"),
        "missing script": ("job: {stage: test, script: ['scripts/nope.sh']}", "sh 'scripts/ci-test.sh'"),
        "shell chain": ("job: {stage: test, script: ['scripts/ci-test.sh && rm -rf /']}",
                        "sh 'scripts/ci-test.sh'"),
        "jenkins inline": ("job: {stage: test, script: [scripts/ci-test.sh]}", "sh 'make test'"),
        "bad shellcheck": ("job: {stage: test, script: [scripts/bad.sh]}", "sh 'scripts/bad.sh'"),
    }
    results = Checks()
    for name, (gitlab, jenkins) in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            os.mkdir(os.path.join(tmp, "scripts"))
            for entry in os.listdir(os.path.join(root, "scripts")):
                os.symlink(os.path.join(root, "scripts", entry), os.path.join(tmp, "scripts", entry))
            bad = os.path.join(tmp, "scripts", "bad.sh")
            with open(bad, "w") as f:
                f.write("#!/usr/bin/env bash\necho $UNQUOTED\n")
            os.chmod(bad, 0o755)
            open(os.path.join(tmp, ".gitlab-ci.yml"), "w").write(f"stages: [test]\n{gitlab}\n")
            open(os.path.join(tmp, "Jenkinsfile"), "w").write(
                f"pipeline {{ stages {{ stage('Test') {{ steps {{ {jenkins} }} }} }} }}\n")
            failures = check_root(tmp).failed
            results.check(failures, f"self-test: a CI file with {name} was accepted")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    checks = check_root(args.root)
    if args.self_test:
        st = self_test(args.root)
        checks.passed += st.passed
        checks.failed += st.failed
    for failure in checks.failed:
        print(f"FAIL {failure}")
    print(f"check-pipeline: {checks.passed} passed, {len(checks.failed)} failed")
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()
