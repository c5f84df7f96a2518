"""Runs the user guide (docs/guide/*.md) so that it cannot rot.

Every page's shell blocks are extracted and run in order, one fresh environment per page, against
the emulator (a local emulated host, or a loopback sshd standing in for the rented GPU machine).

The convention (also described in docs/guide/README.md, "How this guide is tested"):

- A ```console block runs. Its lines starting with `$ ` are commands (a line ending in `\\`
  continues on the next); the lines after a command, up to the next `$ `, are output the reader
  should see: each non-blank one must appear in one line of the command's stdout or stderr, with
  `…` standing for anything (the pieces appear in that order).
- Every other block of shell (```sh, ```bash, ```shell or no language) must be preceded by
  `<!-- guide: not run: REASON -->`; so must a ```console block that cannot run here. A shell
  block with neither fails this test, so a new command cannot slip in untested.
- HTML comments `<!-- guide: ... -->` before a block steer it (several may stack):
    not run: REASON            the block is shown, never run
    exit N                     its commands must exit N (default 0)
    stdin TEXT                 its commands read TEXT and a newline (`\\n` in TEXT: a newline)
    tty                        its commands run on a terminal (`script`), for a question
    save NAME from .a.b        after its last command, NAME = that field of its stdout's JSON
                               (`.0.id`: an array's first element); later commands and output
                               have NAME replaced by the value
    save NAME from /REGEX/     the same, from the first match of REGEX in its stdout (else
                               its stderr)
    file PATH                  the block is not a command: its text is written to PATH
                               (relative to the page's working directory; `~/` is $HOME);
                               `cosmos.extra.toml` is appended to the config the page's
                               `setup hosts` writes (alert rules, sinks, ...)
    emulate K=V ...            the local emulated hosts get these emulator variables for this
                               block only (how a failure is made to happen on cue)
    background until TEXT      its one command is started and left running once TEXT shows in
                               its output; it is stopped when the page ends
  and, for the rest of the page:
    setup WHAT ...             what the page's environment starts with (see Page.setup)
    stop background            the commands started with `background until` so far are
                               stopped (a server's port is free again)
    replace OLD => NEW         OLD is replaced by NEW in the commands that follow; NEW may name
                               {port}, {user}, {key}, {root}, {remote}
"""
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import EMULATOR_BIN, make_video
from sshd_server import SshServer, sshd_available

SOURCE = Path(os.environ.get("COSMOS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
GUIDE = SOURCE / "docs" / "guide"
SHELL_LANGS = {"console", "sh", "bash", "shell", "zsh", ""}
# Emulated model time: a load of 90 s and 2 s per step become a few hundredths of a second.
TIME_SCALE = "0.0005"
COMMAND_TIMEOUT = 120

FENCE = re.compile(r"^```([\w+-]*)\s*$")
MARKER = re.compile(r"^<!--\s*guide:\s*(.*?)\s*-->\s*$")


def pages():
    return sorted(p for p in GUIDE.glob("*.md"))


class Block:
    def __init__(self, lang, text, markers, line):
        self.lang, self.text, self.markers, self.line = lang, text, markers, line

    def marker(self, name):
        return [m[len(name):].strip() for m in self.markers if m.startswith(name)]

    def commands(self):
        """[(command, [expected output lines])] of a console block."""
        out, lines = [], self.text.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line.startswith("$ "):
                assert not out, f"line {self.line}: output before any command: {line!r}"
                i += 1
                continue
            cmd = line[2:]
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
            expected = []
            i += 1
            while i < len(lines) and not lines[i].startswith("$ "):
                if lines[i].strip():
                    expected.append(lines[i].strip())
                i += 1
            out.append((cmd, expected))
        return out


def parse(page: Path):
    """The page's fenced blocks, each with the guide markers just before it, and the page-wide
    markers (setup, replace) in order with the blocks."""
    items, markers, block, start = [], [], None, 0
    for n, line in enumerate(page.read_text().splitlines(), 1):
        if block is not None:
            if line.strip() == "```":
                items.append(Block(block[0], "\n".join(block[1]), markers, start))
                markers, block = [], None
            else:
                block[1].append(line)
            continue
        m = FENCE.match(line)
        if m:
            block, start = (m.group(1).lower(), []), n
            continue
        m = MARKER.match(line.strip())
        if m:
            text = m.group(1)
            if text.startswith(("setup ", "replace ")) or text == "stop background":
                items.append(text)
            else:
                markers.append(text)
        elif line.strip() and markers and not line.startswith("<!--"):
            raise AssertionError(f"{page.name}:{n}: guide markers {markers} not followed by a "
                                 "block")
    assert block is None, f"{page.name}: unclosed block at line {start}"
    return items


def unmarked_shell_blocks(page: Path):
    bad = []
    for item in parse(page):
        if isinstance(item, str):
            continue
        if item.marker("not run") or item.marker("file"):
            continue
        if item.lang == "console":
            continue
        if item.lang in SHELL_LANGS:
            bad.append(f"{page.name}:{item.line}: ```{item.lang} block neither ```console (run) "
                       "nor marked <!-- guide: not run: REASON -->")
    return bad


def test_every_shell_block_is_run_or_marked():
    assert pages(), f"no guide pages in {GUIDE}"
    bad = [b for p in pages() for b in unmarked_shell_blocks(p)]
    assert not bad, "\n".join(bad)


def test_not_run_blocks_say_why():
    for page in pages():
        for item in parse(page):
            if isinstance(item, Block):
                for reason in item.marker("not run"):
                    assert reason.lstrip(":").strip(), f"{page.name}:{item.line}: no reason"


def _matches(expected: str, output_lines) -> bool:
    pieces = [p.strip() for p in expected.split("…") if p.strip()]
    for line in output_lines:
        pos = 0
        for piece in pieces:
            pos = line.find(piece, pos)
            if pos < 0:
                break
            pos += len(piece)
        else:
            return True
    return False


def _json_path(doc, path):
    for part in [p for p in path.split(".") if p]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return str(doc)


class Page:
    def __init__(self, page: Path, root: Path, bin_dir: Path):
        self.page, self.root = page, root
        self.cwd = root / "work"
        self.cwd.mkdir(parents=True)
        self.home = root / "home"
        self.home.mkdir()
        self.remote = root / "remote"  # the rented machine's /workspace
        self.env = {
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            "COSMOS_EMULATOR_BIN": EMULATOR_BIN,
            "NO_COLOR": "1",
            "LC_ALL": "C.UTF-8",
        }
        self.saved, self.replacements, self.local_hosts = {}, [], []
        self.sshd, self.background, self.ran = None, [], 0
        self.fill = {"root": str(root), "remote": str(self.remote)}

    # -- environment -----------------------------------------------------------------------
    def setup(self, what: str):
        words = what.split()
        kind, args = words[0], words[1:]
        if kind == "renders":
            # renders/shot010: colour, depth and segmentation passes as PNG sequences
            shot = self.cwd / "renders" / "shot010"
            shot.mkdir(parents=True)
            for name, source in (("color", "testsrc2"), ("depth", "gradients"),
                                 ("segmentation", "smptebars")):
                subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                                f"{source}=size=320x176:rate=24", "-frames:v", "25",
                                str(shot / f"{name}.%04d.png")], check=True)
        elif kind == "long-shot":
            # inputs/shot020: an input set of 60 frames, already made into videos
            d = self.cwd / "inputs" / "shot020"
            make_video(d / "color.mp4", frames=60)
            make_video(d / "depth.mp4", frames=60, source="gradients", gray=True)
        elif kind == "hosts":
            # local hosts running the emulator, each its own 8 GPUs; the first is [run] host
            self.local_hosts = args
            self.emulator_dir = self.root / "emulator"
            self._cosmos("emulator", "install", self.emulator_dir)
            self.write_config({})
        elif kind == "rented-machine":
            # a loopback sshd as the rented GPU machine; the model checkout in /workspace is the
            # emulator's, its Python environment a torchrun that runs it
            if not sshd_available():
                pytest.skip("no sshd (openssh-server) for the rented machine")
            self.sshd = SshServer(self.root / "sshd")
            scale = " ".join(f"{k}={v}" for k, v in self.emulator_env({}).items())
            with open(self.sshd.config, "a") as f:
                f.write(f"SetEnv {scale}\n")
            self.sshd.start()
            checkout = self.remote / "cosmos-transfer1"
            self._cosmos("emulator", "install", checkout)
            venv = self.remote / "venv" / "bin"
            venv.mkdir(parents=True)
            (venv / "torchrun").write_text(f'#!/bin/sh\nexec "{checkout}/bin/torchrun" "$@"\n')
            (venv / "torchrun").chmod(0o755)
            self.fill.update(port=str(self.sshd.port), user=self.sshd.user,
                             key=str(self.sshd.user_key))
        else:
            raise AssertionError(f"{self.page.name}: unknown setup {what!r}")

    def _cosmos(self, *args):
        subprocess.run(["cosmos", *map(str, args)], env=self.env, cwd=self.cwd, check=True,
                       capture_output=True, timeout=COMMAND_TIMEOUT)

    @staticmethod
    def emulator_env(extra):
        env = {"COSMOS_EMULATOR_TIME_SCALE": TIME_SCALE, "COSMOS_EMULATOR_STRICT": "1",
               "COSMOS_EMULATOR_UPSCALE_SIZE": "640x352"}
        env.update(extra)
        return env

    def write_config(self, extra_env):
        text = ""
        for name in self.local_hosts:
            env = self.emulator_env(extra_env)
            env["COSMOS_EMULATOR_GPU_DIR"] = str(self.root / f"gpus-{name}")
            env_toml = ", ".join(f'{k} = "{v}"' for k, v in env.items())
            text += (f'[hosts.{name}]\nkind = "local"\ngpus = 8\ngpu_sample_every = 0\n'
                     f'cosmos_dir = "{self.emulator_dir}"\n'
                     f'torchrun = "{self.emulator_dir}/bin/torchrun"\nenv = {{ {env_toml} }}\n\n')
        if self.local_hosts:
            text += f'[run]\nhost = "{self.local_hosts[0]}"\n'
        extra = self.cwd / "cosmos.extra.toml"
        if extra.exists():
            text += "\n" + extra.read_text()
        (self.cwd / "cosmos.toml").write_text(text)

    def close(self):
        self.stop_background()
        if self.sshd:
            self.sshd.close()

    def stop_background(self):
        for proc in self.background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.background = []

    # -- running ---------------------------------------------------------------------------
    def substitute(self, text, replacements=True):
        if replacements:
            for old, new in self.replacements:
                text = text.replace(old, new)
        for name, value in self.saved.items():
            text = re.sub(rf"\b{re.escape(name)}\b", value, text)
        return text

    def run_block(self, block: Block):
        where = f"{self.page.name}:{block.line}"
        if block.marker("not run"):
            return
        for path in block.marker("file"):
            target = Path(os.path.expanduser(path.replace("~", str(self.home), 1))
                          if path.startswith("~") else self.cwd / path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.substitute(block.text) + "\n")
        if "cosmos.extra.toml" in block.marker("file"):
            self.write_config({})
        if block.marker("file") or block.lang != "console":
            return
        exits = block.marker("exit")
        want_exit = int(exits[0]) if exits else 0
        stdin = block.marker("stdin")
        emulate = block.marker("emulate")
        if emulate:
            self.write_config(dict(kv.split("=", 1) for kv in emulate[0].split()))
        try:
            commands = block.commands()
            assert commands, f"{where}: a console block without a `$ ` command"
            for i, (cmd, expected) in enumerate(commands):
                cmd = self.substitute(cmd)
                assert cmd.split()[0] in ("cosmos", "ls", "ffprobe", "chmod", "cat", "cp", "mkdir",
                                         "sqlite3"), \
                    f"{where}: {cmd!r}: only cosmos (and a few file tools) run here"
                background = block.marker("background until")
                if background:
                    self.start_background(where, cmd, background[0].strip('"'))
                    continue
                started = time.monotonic()
                argv = ["bash", "-c", cmd]
                if block.marker("tty"):
                    argv = ["script", "-qec", cmd, "/dev/null"]
                proc = subprocess.run(argv, env=self.env, cwd=self.cwd,
                                      capture_output=True, text=True,
                                      input=(stdin[0].replace("\\n", "\n") + "\n")
                                      if stdin else "",
                                      timeout=COMMAND_TIMEOUT)
                self.ran += 1
                report = (f"{where}: $ {cmd}\nexit {proc.returncode} (want {want_exit}) in "
                          f"{time.monotonic() - started:.1f}s\n--- stdout\n{proc.stdout[-4000:]}"
                          f"\n--- stderr\n{proc.stderr[-4000:]}")
                assert proc.returncode == want_exit, report
                lines = (proc.stdout + "\n" + proc.stderr).splitlines()
                for line in expected:
                    line = self.substitute(line, replacements=False)
                    assert _matches(line, lines), f"expected output {line!r} missing\n{report}"
                if i == len(commands) - 1:
                    for save in block.marker("save"):
                        self.save(where, save, proc.stdout, proc.stderr)
        finally:
            if emulate:
                self.write_config({})

    def save(self, where, spec, stdout, stderr):
        name, source = spec.split(" from ", 1)
        name, source = name.strip(), source.strip()
        if source.startswith("/"):
            m = re.search(source.strip("/"), stdout) or re.search(source.strip("/"), stderr)
            assert m, f"{where}: save {name}: /{source}/ not in stdout:\n{stdout}"
            self.saved[name] = m.group(0)
        else:
            self.saved[name] = _json_path(json.loads(stdout), source)

    def start_background(self, where, cmd, until):
        log = self.root / f"background{len(self.background)}.log"
        out = open(log, "w")
        proc = subprocess.Popen(["bash", "-c", f"exec {cmd}"], env=self.env, cwd=self.cwd,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        self.background.append(proc)
        self.ran += 1
        deadline = time.monotonic() + 60
        while until not in log.read_text():
            assert proc.poll() is None, f"{where}: $ {cmd} exited {proc.returncode}:\n" \
                                        f"{log.read_text()}"
            assert time.monotonic() < deadline, f"{where}: {until!r} not seen:\n" \
                                                f"{log.read_text()}"
            time.sleep(0.1)

    def run(self):
        for item in parse(self.page):
            if isinstance(item, str):
                if item == "stop background":
                    self.stop_background()
                elif item.startswith("setup "):
                    for what in item[len("setup "):].split(";"):
                        self.setup(what.strip())
                else:
                    old, new = item[len("replace "):].split("=>", 1)
                    self.replacements.append((old.strip(), new.strip().format(**self.fill)))
            else:
                self.run_block(item)


def run_page(runner):
    """Runs a page with `runner` (a Page), always closing what it started."""
    try:
        started = time.monotonic()
        runner.run()
        print(f"{runner.page.name}: {runner.ran} commands in {time.monotonic() - started:.1f}s")
    finally:
        runner.close()


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.stem)
def test_page(page, cosmos_bin, emulator_bin, tmp_path):
    run_page(Page(page, tmp_path, Path(cosmos_bin).parent))
