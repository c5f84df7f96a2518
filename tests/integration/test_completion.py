"""Shell completion: the bash script from `cosmos completion bash` sourced in a real bash and
driven as bash drives it on TAB (COMP_WORDS/COMP_CWORD set, the function `complete -p` names
called), against a real configuration and database; zsh and fish scripts parsed by their
shells when installed."""
import os
import shutil
import subprocess

import pytest


def bash_complete(cosmos, words, cword=None, extra_env=None):
    """The completions bash would offer for `words` (the first is `cosmos`) with the cursor on
    word `cword` (default: the last), one per line, as the sourced script computes them."""
    cword = len(words) - 1 if cword is None else cword
    script = cosmos.run("completion", "bash").stdout
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    driver = (script +
              "\nspec=$(complete -p cosmos)\n"
              "fn=${spec#*-F }; fn=${fn%% *}\n"
              f"COMP_WORDS=({quoted}); COMP_CWORD={cword}\n"
              "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
              "\"$fn\" cosmos \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    env = dict(cosmos.env)
    env["PATH"] = os.path.dirname(cosmos.binary) + os.pathsep + env["PATH"]
    env.update(extra_env or {})
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", driver], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


@pytest.fixture
def populated(cosmos, input_set):
    cfg = cosmos.root / "cosmos.toml"
    cfg.write_text('[hosts.gpu-east]\nkind = "ssh"\naddress = "10.0.0.1"\nuser = "u"\n'
                   '[hosts.gpu-west]\nkind = "ssh"\naddress = "10.0.0.2"\nuser = "u"\n'
                   '[hosts.local]\nkind = "local"\n')
    cosmos.env["COSMOS_CONFIG"] = str(cfg)
    prompt = cosmos.json("create", "prompt", "a foggy harbour", input_set)["id"]
    runs = [cosmos.json("create", "run", prompt)["id"] for _ in range(3)]
    return prompt, runs


def test_bash_script_is_registered_and_clean(cosmos):
    script = cosmos.run("completion", "bash").stdout
    proc = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    spec = subprocess.run(["bash", "--norc", "-c", script + "\ncomplete -p cosmos"],
                          capture_output=True, text=True, env=cosmos.env)
    assert spec.returncode == 0 and "-F _cosmos" in spec.stdout, spec.stderr
    if shutil.which("shellcheck"):
        lint = subprocess.run(["shellcheck", "-s", "bash", "-"], input=script,
                              capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout


def test_commands_and_subcommands(cosmos, populated):
    top = bash_complete(cosmos, ["cosmos", ""])
    for command in ("create", "inference", "doctor", "completion", "hosts", "show", "list"):
        assert command in top, top
    assert "__complete" not in top
    assert bash_complete(cosmos, ["cosmos", "doc"]) == ["doctor"]
    sub = bash_complete(cosmos, ["cosmos", "hosts", ""])
    assert {"add", "list", "show", "remove", "trust"} <= set(sub), sub


def test_options_of_a_subcommand_match_its_help(cosmos, populated):
    offered = bash_complete(cosmos, ["cosmos", "inference", "--"])
    help_text = cosmos.run("inference", "--help").stdout
    for option in ("--host", "--queue", "--weight", "--json", "--config"):
        assert option in offered, offered
    # Every long option offered for `inference` is one its --help (or the global --help) lists.
    global_help = cosmos.run("--help").stdout
    for option in offered:
        if option.startswith("--"):
            assert option in help_text or option in global_help, option
    assert bash_complete(cosmos, ["cosmos", "doctor", "--j"]) == ["--json"]


def test_host_names_from_the_config(cosmos, populated):
    assert bash_complete(cosmos, ["cosmos", "doctor", "gpu"]) == ["gpu-east", "gpu-west"]
    assert bash_complete(cosmos, ["cosmos", "inference", "--host", "gpu-w"]) == ["gpu-west"]
    assert bash_complete(cosmos, ["cosmos", "hosts", "trust", "lo"]) == ["local"]
    # --config earlier on the line is the configuration read.
    other = cosmos.root / "other.toml"
    other.write_text('[hosts.zeta]\nkind = "local"\n')
    assert bash_complete(cosmos, ["cosmos", "--config", str(other), "doctor", ""]) == ["zeta"]


def test_run_and_prompt_ids_from_the_database(cosmos, populated):
    prompt, runs = populated
    assert sorted(bash_complete(cosmos, ["cosmos", "show", "rs_"])) == sorted(runs)
    assert bash_complete(cosmos, ["cosmos", "show", runs[1][:-1]]) == [runs[1]]
    assert bash_complete(cosmos, ["cosmos", "create", "run", "ps_"]) == [prompt]
    both = bash_complete(cosmos, ["cosmos", "delete", ""])
    assert sorted(both) == sorted([prompt] + runs)
    assert bash_complete(cosmos, ["cosmos", "show", "rs_zz"]) == []
    # The hidden command's KIND PREFIX form, as the benchmark calls it.
    out = cosmos.run("__complete", "runs", runs[0][:8]).stdout.split()
    assert runs[0] in out


def test_templates_and_files(cosmos, populated):
    names = bash_complete(cosmos, ["cosmos", "templates", "show", ""])
    listed = [t["name"] for t in cosmos.json("templates", "list")]
    assert names == listed and names, names
    (cosmos.root / "mine.toml").write_text("")
    files = bash_complete(cosmos, ["cosmos", "--config", str(cosmos.root / "mi")])
    assert files == [str(cosmos.root / "mine.toml")], files


def test_a_completion_never_creates_a_database(cosmos, tmp_path):
    cosmos.env["COSMOS_DATA_DIR"] = str(tmp_path / "fresh")
    assert bash_complete(cosmos, ["cosmos", "show", "rs_"]) == []
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize("shell,check", [("zsh", ["zsh", "-n"]),
                                         ("fish", ["fish", "--no-execute"])])
def test_zsh_and_fish_scripts_parse(cosmos, tmp_path, shell, check):
    if not shutil.which(check[0]):
        pytest.skip(f"{shell} is not installed (scripts/install-deps.sh installs it)")
    path = tmp_path / f"cosmos.{shell}"
    path.write_text(cosmos.run("completion", shell).stdout)
    proc = subprocess.run(check + [str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_fish_completes_through_the_script(cosmos, populated, tmp_path):
    if not shutil.which("fish"):
        pytest.skip("fish is not installed (scripts/install-deps.sh installs it)")
    path = tmp_path / "cosmos.fish"
    path.write_text(cosmos.run("completion", "fish").stdout)
    env = dict(cosmos.env)
    env["PATH"] = os.path.dirname(cosmos.binary) + os.pathsep + env["PATH"]
    proc = subprocess.run(["fish", "--no-config", "-c",
                           f"source {path}; complete -C 'cosmos doctor gpu-e'"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["gpu-east"], proc.stdout
