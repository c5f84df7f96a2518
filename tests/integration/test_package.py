"""The Debian package (docs/release.md): scripts/release.sh builds it (build-release/, the test
build's flags), and the .deb itself is checked: its file list, control fields, stripped binaries
that report the package's version, the man page, and the bash completion installed from the
package's own file, driven as bash drives it on TAB. Then the clean-root test: a Debian 12
minbase root where apt-get installs the .deb with its Depends only and `cosmos demo` runs as an
ordinary user; and the same test given a package whose Depends lack FFmpeg must fail.

Slow (a build, two chroot installs): registered like every integration file, but it runs only
with COSMOS_PACKAGE_TEST=1, which scripts/test.sh's `package` step sets (docs/testing.md)."""
import gzip
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("COSMOS_SOURCE_DIR") or Path(__file__).resolve().parents[2])
RELEASE = SOURCE / "scripts" / "release.sh"

pytestmark = pytest.mark.skipif(os.environ.get("COSMOS_PACKAGE_TEST") != "1",
                                reason="the package test runs in scripts/test.sh's package step "
                                       "(COSMOS_PACKAGE_TEST=1)")

AV_PACKAGES = ("libavcodec59", "libavformat59", "libavfilter8", "libavutil57", "libswscale6")


def release(*args, timeout=900, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(["bash", str(RELEASE), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=SOURCE)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """Builds the package once for the module: returns (deb, version, extracted root, changelog)."""
    if not shutil.which("dpkg-deb") or not shutil.which("cpack"):
        pytest.skip("dpkg-deb or cpack missing (scripts/install-deps.sh)")
    out = tmp_path_factory.mktemp("release")
    version = subprocess.run(["bash", str(SOURCE / "scripts" / "version.sh")], check=True,
                             capture_output=True, text=True).stdout.strip()
    changelog = out / "CHANGELOG.md"
    # The suite step with one small file: the extract-and-run machinery, not the whole suite
    # (ctest has just run it against build/).
    proc = release("--skip-root-test", "--dist", out / "dist", "--changelog", changelog,
                   env={"COSMOS_RELEASE_SUITE": "test_completion"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    deb = out / "dist" / f"cosmos_{version}_amd64.deb"
    assert deb.is_file(), proc.stdout[-2000:]
    root = out / "root"
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    return deb, version, root, changelog


def test_contents(package):
    deb, _, _, _ = package
    listing = subprocess.run(["dpkg-deb", "-c", deb], check=True, capture_output=True,
                             text=True).stdout
    files = {}
    for line in listing.splitlines():
        mode, _owner, _size, _date, _time, name = line.split(None, 5)
        files[name.split(" -> ")[0]] = mode
    for path in ("./usr/bin/cosmos", "./usr/bin/cosmos-emulator"):
        assert files.get(path, "").startswith("-rwxr-xr-x"), (path, files.get(path))
    for path in ("./usr/share/man/man1/cosmos.1.gz",
                 "./usr/share/bash-completion/completions/cosmos",
                 "./usr/share/zsh/vendor-completions/_cosmos",
                 "./usr/share/fish/vendor_completions.d/cosmos.fish",
                 "./usr/share/doc/cosmos/README.md", "./usr/share/doc/cosmos/CHANGELOG.md",
                 "./usr/share/doc/cosmos/cli.md", "./usr/share/doc/cosmos/release.md",
                 "./usr/share/doc/cosmos/guide/README.md"):
        assert files.get(path, "").startswith("-rw-r--r--"), (path, files.get(path))
    outside = [f for f in files if not f.startswith("./usr/") and f != "./"]
    assert outside == [], outside


def test_control_fields(package):
    deb, version, _, _ = package
    fields = {}
    for name in ("Package", "Version", "Architecture", "Depends", "Description"):
        fields[name] = subprocess.run(["dpkg-deb", "-f", deb, name], check=True,
                                      capture_output=True, text=True).stdout.strip()
    assert fields["Package"] == "cosmos"
    assert fields["Version"] == version
    assert fields["Architecture"] == "amd64"
    assert re.fullmatch(r"[0-9][A-Za-z0-9.+~]*", version), version
    depends = {d.strip().split(" ")[0] for d in fields["Depends"].split(",")}
    # dlopen'ed FFmpeg (named explicitly), and what dpkg-shlibdeps found the binaries linked to
    for needed in (*AV_PACKAGES, "libc6", "libstdc++6", "libsqlite3-0", "libssh-4"):
        assert needed in depends, (needed, fields["Depends"])
    assert fields["Description"].startswith("workflow orchestrator for NVIDIA Cosmos models")


def test_binaries_are_stripped_and_report_the_version(package):
    _, version, root, _ = package
    cosmos = root / "usr/bin/cosmos"
    out = subprocess.run([cosmos, "--version"], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == f"cosmos {version}"
    for binary in (cosmos, root / "usr/bin/cosmos-emulator"):
        sections = subprocess.run(["readelf", "-S", "-W", binary], check=True,
                                  capture_output=True, text=True).stdout
        assert ".debug_info" not in sections, binary


def test_man_page(package):
    _, version, root, _ = package
    page = gzip.decompress((root / "usr/share/man/man1/cosmos.1.gz").read_bytes()).decode()
    assert page.startswith('.\\" Generated by scripts/gen-man.sh')
    assert '.TH COSMOS 1 ' in page and f'"cosmos {version}"' in page
    help_text = subprocess.run([root / "usr/bin/cosmos", "--help"], check=True,
                               capture_output=True, text=True, env={"COLUMNS": "100"}).stdout
    commands = re.findall(r"^  ([a-z][a-z0-9-]*) ", help_text.split("Subcommands:")[1], re.M)
    assert len(commands) > 20, commands
    for command in commands:
        assert f'.SS "cosmos {command}"' in page, command
    assert '.SS "cosmos hosts add"' in page and '.SS "cosmos create prompt"' in page
    if shutil.which("groff"):
        render = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=page,
                                capture_output=True, text=True)
        assert render.returncode == 0 and render.stderr == "", render.stderr[:2000]


def bash_complete(root, home, words):
    """What bash offers for `words` (cursor on the last) with the package's completion file
    sourced and the package's cosmos first on PATH."""
    script = root / "usr/share/bash-completion/completions/cosmos"
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    driver = (f"source '{script}'\n"
              "spec=$(complete -p cosmos)\n"
              "fn=${spec#*-F }; fn=${fn%% *}\n"
              f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
              "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
              "\"$fn\" cosmos \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    env = {"PATH": f"{root / 'usr/bin'}:/usr/bin:/bin", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share")}
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", driver], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def test_bash_completion_from_the_package(package, tmp_path):
    _, _, root, _ = package
    installed = (root / "usr/share/bash-completion/completions/cosmos").read_text()
    generated = subprocess.run([root / "usr/bin/cosmos", "completion", "bash"], check=True,
                               capture_output=True, text=True).stdout
    assert installed == generated
    assert bash_complete(root, tmp_path, ["cosmos", "dem"]) == ["demo"]
    assert {"add", "list", "trust"} <= set(bash_complete(root, tmp_path, ["cosmos", "hosts", ""]))
    assert bash_complete(root, tmp_path, ["cosmos", "doctor", "--j"]) == ["--json"]
    # the candidates come from the package's binary: without it on PATH there are none
    script = root / "usr/share/bash-completion/completions/cosmos"
    none = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                           f"source '{script}'; COMP_WORDS=(cosmos dem); COMP_CWORD=1; "
                           "_cosmos cosmos dem cosmos 2>/dev/null; echo \"${#COMPREPLY[@]}\""],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert none.stdout.strip().splitlines()[-1] == "0", none.stdout


@pytest.mark.parametrize("shell,path", [("zsh", "usr/share/zsh/vendor-completions/_cosmos"),
                                        ("fish", "usr/share/fish/vendor_completions.d/cosmos.fish")])
def test_zsh_and_fish_files_parse(package, shell, path):
    if not shutil.which(shell):
        pytest.skip(f"{shell} not installed")
    _, _, root, _ = package
    proc = subprocess.run([shell, "-n", root / path], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_changelog_section(package):
    _, version, _, changelog = package
    text = changelog.read_text()
    assert text.startswith("# Changelog\n")
    section = text.split(f"## {version} (", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^### [a-z]", section, re.M), section[:500]
    entries = re.findall(r"^- .+ \(([0-9a-f]{7,})\)$", section, re.M)
    assert entries, section[:500]
    head = subprocess.run(["git", "-C", SOURCE, "log", "-1", "--format=%h %s"],
                          capture_output=True, text=True).stdout.split(" ", 1)
    if head[0] and not head[1].startswith("release:"):
        assert head[0] in entries


def root_test(deb):
    if os.geteuid() != 0:
        pytest.skip("the clean-root test needs root (chroot, mount)")
    if not shutil.which("debootstrap"):
        pytest.skip("debootstrap missing (scripts/install-deps.sh)")
    return release("--root-test", deb)


def test_clean_debian_root_installs_and_runs_the_demo(package):
    deb, _, _, _ = package
    proc = root_test(deb)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert re.search(r"cosmos demo succeeded in a clean Debian 12\.\d+ root as user tester: "
                     r"/home/tester/\S+\.mp4", out), out[-3000:]


def test_clean_root_test_fails_without_the_ffmpeg_depends(package, tmp_path):
    """The same package with FFmpeg's libraries dropped from Depends installs, and the demo in
    the clean root then fails: the root test sees a wrong Depends."""
    deb, _, _, _ = package
    tree = tmp_path / "tree"
    subprocess.run(["dpkg-deb", "-R", deb, tree], check=True)
    control = tree / "DEBIAN" / "control"
    lines = []
    for line in control.read_text().splitlines():
        if line.startswith("Depends:"):
            kept = [d for d in line[len("Depends:"):].split(",")
                    if d.strip().split(" ")[0] not in AV_PACKAGES]
            line = "Depends:" + ",".join(kept)
        lines.append(line)
    control.write_text("\n".join(lines) + "\n")
    broken = tmp_path / deb.name
    subprocess.run(["dpkg-deb", "-Zgzip", "-b", tree, broken], check=True, capture_output=True)
    proc = root_test(broken)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "cosmos demo failed in the clean root" in out, out[-3000:]
    assert "libav" in out, out[-3000:]
