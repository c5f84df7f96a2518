"""Runs every example that `cosmos ... --help` and the README show, so that none can rot.

The examples are read from the binary itself (the "Examples:" part of each command's help, for
every command `--help` lists) and from the README's shell blocks. They are run by the pages under
tests/integration/examples/, written in the user guide's format and run by its engine
(test_guide.py: console blocks, `setup`, `save`, `replace`, `exit` markers). A page writes each
example exactly as the help shows it; `save` and `replace` markers make its placeholder ids and
addresses real (`save ps_1a2b3c from .id` after creating a prompt).

An example no page holds fails test_every_example_is_on_a_page, so a new example cannot slip in
unrun; one that cannot run here sits in a block marked `<!-- guide: not run: REASON -->`.
"""
import os
import re
import subprocess
from pathlib import Path

import pytest

from test_cosmos3 import KEY, Server
from test_guide import Block, Page, parse, run_page

SOURCE = Path(os.environ.get("COSMOS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
PAGES = Path(__file__).resolve().parent / "examples"


def subcommands(binary, *words):
    """The names under "Subcommands:" in `cosmos WORDS --help`."""
    text = subprocess.run([binary, *words, "--help"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"}, check=True).stdout
    names, on = [], False
    for line in text.splitlines():
        if line.startswith("Subcommands:"):
            on = True
        elif on and re.match(r"^  [a-z]", line):
            names.append(line.split()[0])
        elif on and line and not line.startswith(" "):
            on = False
    return names


def strip_comment(line):
    """The command of an example line: without a trailing `# comment` (outside quotes)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] == " "):
            return line[:i].rstrip()
    return line.rstrip()


def joined(lines):
    """Example lines with `\\` continuations joined, comments stripped, spaces normalised."""
    out, pending = [], ""
    for line in lines:
        line = strip_comment(line.strip())
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        out.append(" ".join((pending + line).split()))
        pending = ""
    return [c for c in out if c]


def help_examples(binary):
    """{example: [commands whose help shows it]} over every command's --help."""
    commands = [[]]
    for top in subcommands(binary):
        commands.append([top])
        commands += [[top, sub] for sub in subcommands(binary, top)]
    found = {}
    for words in commands:
        text = subprocess.run([binary, *words, "--help"], capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "100"}, check=True).stdout
        lines, on = [], False
        for line in text.splitlines():
            if re.match(r"^\s*(Examples?|Quick start):", line):
                on = True
                rest = line.split(":", 1)[1].strip()
                if rest.startswith("cosmos "):
                    lines.append(rest)
                continue
            if on and line.startswith("  cosmos "):
                lines.append(line)
            elif on and lines and lines[-1].rstrip().endswith("\\") and line.startswith("    "):
                lines.append(line)
            elif on:
                on = False
        for example in joined(lines):
            found.setdefault(example, []).append(" ".join(["cosmos", *words]))
    return found


def readme_examples():
    """The `cosmos ...` lines of the README's shell blocks."""
    examples, block = [], None
    for line in (SOURCE / "README.md").read_text().splitlines():
        if block is None:
            if re.match(r"^```(sh|bash|console)?\s*$", line):
                block = []
            continue
        if line.strip() == "```":
            examples += [c for c in joined(block) if c.startswith("cosmos ")]
            block = None
            continue
        block.append(line[2:] if line.startswith("$ ") else line)
    return examples


def page_commands():
    """{command as written: (page, ran)} over every example page's blocks."""
    out = {}
    for page in sorted(PAGES.glob("*.md")):
        for item in parse(page):
            if not isinstance(item, Block) or item.marker("file"):
                continue
            ran = item.lang == "console" and not item.marker("not run")
            lines = [line[2:] if line.startswith("$ ") else line
                     for line in item.text.splitlines()
                     if line.startswith("$ ") or not ran]
            if ran:  # a console block's commands, with their continuations
                lines = [cmd for cmd, _ in item.commands()]
            for cmd in joined(lines):
                out.setdefault(cmd, (page.name, ran))
    return out


def test_every_example_is_on_a_page(cosmos_bin):
    on_pages = page_commands()
    missing = []
    for example, where in sorted(help_examples(cosmos_bin).items()):
        if example not in on_pages:
            missing.append(f"{example}    (from `{where[0]} --help`)")
    for example in readme_examples():
        if example not in on_pages:
            missing.append(f"{example}    (from README.md)")
    assert not missing, ("examples no page under tests/integration/examples/ runs (write each "
                         "exactly as shown):\n" + "\n".join(missing))


def test_most_examples_run(cosmos_bin):
    """Examples marked not run stay the exception, each with its reason (test_guide checks the
    reasons are given)."""
    on_pages = page_commands()
    wanted = set(help_examples(cosmos_bin)) | set(readme_examples())
    not_run = sorted(e for e in wanted if e in on_pages and not on_pages[e][1])
    assert len(not_run) <= len(wanted) // 10, "too many examples not run:\n" + "\n".join(not_run)


class ExamplePage(Page):
    """The guide's runner with one more setup: `model-servers`, two emulated Cosmos 3 servers
    on 127.0.0.1 (a generator and a reasoner, as vLLM-Omni serves them) whose addresses fill
    `{c3_url}` and `{reasoner_url}`, and whose API key fills `{c3_key}`."""

    servers = ()

    def setup(self, what):
        if what != "model-servers":
            return super().setup(what)
        record = self.root / "servers.jsonl"
        self.servers = (Server(self.root, record), Server(self.root, record, reasoner=True))
        self.fill.update(c3_url=self.servers[0].url, reasoner_url=self.servers[1].url,
                         c3_key=KEY)
        return None

    def close(self):
        try:
            super().close()
        finally:
            for server in self.servers:
                server.stop()


@pytest.mark.parametrize("page", sorted(PAGES.glob("*.md")), ids=lambda p: p.stem)
def test_example_page(page, cosmos_bin, emulator_bin, tmp_path):
    run_page(ExamplePage(page, tmp_path, Path(cosmos_bin).parent))
