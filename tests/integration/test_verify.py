"""`cosmos verify [--repair]` (docs/verify.md): the database against the files on disk, with
runs executed by the emulator, files removed behind cosmos's back, folders no run owns, an
imported run whose paths name the old tool's files, and a database whose index disagrees with
its table."""
import json
import sqlite3
from pathlib import Path


def verify(cosmos, *args, expect):
    proc = cosmos.run("verify", *args, "--json", check=False)
    assert proc.returncode == expect, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout)


def by_kind(report, kind):
    return [f for f in report["findings"] if f["kind"] == kind]


def two_runs(cosmos, input_set):
    pid = cosmos.json("create", "prompt", "a foggy harbour at dawn", input_set)["id"]
    a = cosmos.json("--config", cosmos.config, "inference", pid)[0]
    b = cosmos.json("--config", cosmos.config, "inference", pid)[0]
    assert a["status"] == b["status"] == "succeeded"
    return pid, cosmos.json("show", a["id"]), cosmos.json("show", b["id"])


def test_a_consistent_store_verifies_clean(emulated, input_set):
    cosmos = emulated
    two_runs(cosmos, input_set)
    report = verify(cosmos, expect=0)
    assert report["ok"] is True and report["findings"] == [], report
    assert report["checked"]["runs"] == 2 and report["checked"]["prompts"] == 1
    assert report["checked"]["run_folders"] == 2
    text = cosmos.run("verify").stdout
    assert "consistent: 0 error(s), 0 warning(s)" in text, text


def test_missing_files_and_orphans_are_found_and_repaired_safely(emulated, input_set):
    cosmos = emulated
    pid, a, b = two_runs(cosmos, input_set)
    runs = cosmos.data_dir / "runs"
    # Behind cosmos's back: a's output video and b's log go, two folders no run owns appear, and
    # a control video of the prompt is moved away.
    out_a = a["output_video"]
    assert out_a and out_a.startswith(str(runs / a["id"]) + "/")
    Path(out_a).unlink()
    log_b = b["log_path"]
    assert log_b and log_b.startswith(str(runs / b["id"]) + "/")
    Path(log_b).unlink()
    orphan = runs / "rs_00000000deadbeef"
    (orphan / "outputs").mkdir(parents=True)
    (orphan / "outputs" / "keep.mp4").write_bytes(b"precious")
    (runs / "not-a-run").mkdir()
    depth = input_set / "depth.mp4"
    depth.rename(input_set / "depth.moved.mp4")

    report = verify(cosmos, expect=11)
    assert report["ok"] is False and report["repair"] is False
    [missing] = by_kind(report, "missing_output_video")
    assert missing["subject"] == a["id"] and missing["severity"] == "error"
    assert missing["path"] == out_a and missing["repaired"] is False
    [log] = by_kind(report, "missing_log")
    assert log["subject"] == b["id"] and log["severity"] == "warning"
    orphans = sorted(f["subject"] for f in by_kind(report, "orphan_run_folder"))
    assert orphans == ["not-a-run", "rs_00000000deadbeef"]
    assert all(f["severity"] == "error" for f in by_kind(report, "orphan_run_folder"))
    [inp] = by_kind(report, "missing_input")
    assert inp["subject"] == pid and inp["path"] == str(depth) and inp["severity"] == "warning"
    assert report["errors"] == 3 and report["warnings"] == 2
    # Looking changed nothing.
    assert orphan.is_dir() and cosmos.json("show", a["id"])["output_video"] == out_a
    text = cosmos.run("verify", check=False)
    assert text.returncode == 11
    assert "ERROR" in text.stdout and "problems found: 3 error(s), 2 warning(s)" in text.stdout
    assert "cosmos verify --repair" in text.stdout

    fixed = verify(cosmos, "--repair", expect=0)
    assert fixed["ok"] is True and fixed["repair"] is True and fixed["errors"] == 0
    # Orphans moved whole, never deleted, into <data_dir>/orphans/<time>/.
    moved_to = fixed["orphans_dir"]
    assert moved_to.startswith(str(cosmos.data_dir / "orphans") + "/")
    assert not orphan.exists() and not (runs / "not-a-run").exists()
    assert (Path(moved_to) / "rs_00000000deadbeef" / "outputs" / "keep.mp4").read_bytes() == b"precious"
    assert (Path(moved_to) / "not-a-run").is_dir()
    for f in by_kind(fixed, "orphan_run_folder"):
        assert f["repaired"] is True and f["repair"].startswith("moved to ")
    # The vanished output and log are forgotten, each with an event naming the old path; the
    # runs keep their status.
    shown_a = cosmos.json("show", a["id"])
    assert shown_a["output_video"] is None and shown_a["status"] == "succeeded"
    assert any("cosmos verify --repair" in e["detail"] and out_a in e["detail"]
               for e in shown_a["events"]), shown_a["events"]
    shown_b = cosmos.json("show", b["id"])
    assert shown_b["log_path"] is None and shown_b["output_video"] == b["output_video"]
    # The prompt's input is the user's: left alone, still a warning.
    [inp] = by_kind(fixed, "missing_input")
    assert inp["repaired"] is False and "left alone" in inp["repair"]
    assert (input_set / "depth.moved.mp4").exists() and not depth.exists()

    again = verify(cosmos, expect=0)
    assert again["errors"] == 0 and [f["kind"] for f in again["findings"]] == ["missing_input"]


def test_imported_runs_are_warned_about_and_left_alone(cosmos, tmp_path):
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript("""
    CREATE TABLE prompts (id VARCHAR PRIMARY KEY, model_type VARCHAR NOT NULL, prompt_text TEXT NOT NULL,
                          created_at DATETIME, inputs JSON NOT NULL, parameters JSON NOT NULL);
    CREATE TABLE runs (id VARCHAR PRIMARY KEY, prompt_id VARCHAR NOT NULL, model_type VARCHAR NOT NULL,
                       status VARCHAR NOT NULL, created_at DATETIME, updated_at DATETIME,
                       started_at DATETIME, completed_at DATETIME, execution_config JSON NOT NULL,
                       outputs JSON NOT NULL, metadata JSON NOT NULL, log_path VARCHAR(500),
                       error_message TEXT);
    """)
    con.execute("INSERT INTO prompts VALUES (?,?,?,?,?,?)", (
        "ps_9f8e7d6c5b4a", "transfer", "A snowy village", "2025-03-01 10:00:00",
        json.dumps({"video": "inputs/village/color.mp4"}), json.dumps({"name": "village"})))
    for rid, out in (("rs_1a2b3c4d5e6f", "/old/machine/outputs/village/output.mp4"),
                     ("rs_2a2b3c4d5e6f", "outputs/village/relative.mp4")):
        con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", (
            rid, "ps_9f8e7d6c5b4a", "transfer", "completed", "2025-03-01 10:05:00", None, None,
            None, json.dumps({"weights": {"depth": 0.5}}), json.dumps({"output_path": out}),
            json.dumps({}), None, None))
    con.commit()
    con.close()
    cosmos.json("import", db)

    report = verify(cosmos, expect=0)  # warnings only: the old tool's files are elsewhere
    [missing] = by_kind(report, "missing_output_video")
    assert missing["subject"] == "rs_1a2b3c4d5e6f" and missing["severity"] == "warning"
    assert "imported" in missing["detail"]
    # Relative paths (the run's and the prompt's input) name the old tool's folder: not checked.
    assert report["checked"]["not_checked"] == 2
    repaired = verify(cosmos, "--repair", expect=0)
    [missing] = by_kind(repaired, "missing_output_video")
    assert missing["repaired"] is False and "imported" in missing["repair"]
    assert cosmos.json("show", "rs_1a2b3c4d5e6f")["output_video"] == \
        "/old/machine/outputs/village/output.mp4"


def test_a_damaged_database_fails_and_is_never_written(cosmos, input_set):
    for name in ("bravo", "alpha", "charlie"):
        cosmos.json("create", "prompt", f"a harbour {name}", input_set, "--name", name)
    orphan = cosmos.data_dir / "runs" / "rs_00000000deadbeef"
    orphan.mkdir(parents=True)
    # An index whose declared order no longer matches its entries: the file opens and
    # quick_check passes (what `cosmos doctor` runs), but the full integrity_check does not.
    con = sqlite3.connect(cosmos.data_dir / "cosmos.db")
    con.execute("PRAGMA writable_schema=ON")
    con.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX prompts_by_name ON prompts(name DESC)' "
                "WHERE name = 'prompts_by_name'")
    con.commit()
    con.close()
    report = verify(cosmos, expect=11)
    [damage] = by_kind(report, "database_integrity")
    assert damage["severity"] == "error" and "missing from index prompts_by_name" in damage["detail"]
    repaired = verify(cosmos, "--repair", expect=11)
    [orphan_finding] = by_kind(repaired, "orphan_run_folder")
    assert orphan_finding["repaired"] is False
    assert "database itself is damaged" in orphan_finding["repair"]
    assert orphan.is_dir() and not (cosmos.data_dir / "orphans").exists()


def test_verify_is_a_command_and_helps(cosmos):
    out = cosmos.run("verify", "--help").stdout
    assert "--repair" in out and "Examples:" in out and "11" in out
    r = cosmos.run("verfy", check=False)
    assert r.returncode == 2 and "`cosmos verify`" in r.stderr, r.stderr
