"""`cosmos import` against the committed Python-tool fixtures and a database made like its own."""
import json
import os
import sqlite3

FIXTURES = os.path.join(os.environ.get("COSMOS_SOURCE_DIR", "../.."), "tests", "fixtures", "legacy")


def make_legacy_db(path):
    con = sqlite3.connect(path)
    con.executescript("""
    CREATE TABLE prompts (id VARCHAR PRIMARY KEY, model_type VARCHAR NOT NULL, prompt_text TEXT NOT NULL,
                          created_at DATETIME, inputs JSON NOT NULL, parameters JSON NOT NULL);
    CREATE TABLE runs (id VARCHAR PRIMARY KEY, prompt_id VARCHAR NOT NULL REFERENCES prompts(id),
                       model_type VARCHAR NOT NULL, status VARCHAR NOT NULL, created_at DATETIME,
                       updated_at DATETIME, started_at DATETIME, completed_at DATETIME,
                       execution_config JSON NOT NULL, outputs JSON NOT NULL, metadata JSON NOT NULL,
                       log_path VARCHAR(500), error_message TEXT);
    """)
    con.execute("INSERT INTO prompts VALUES (?,?,?,?,?,?)", (
        "ps_9f8e7d6c5b4a", "transfer", "A snowy village at night", "2025-03-01 10:00:00.000000",
        json.dumps({"video": "inputs/videos/village/color.mp4",
                    "depth": "inputs/videos/village/depth.mp4"}),
        json.dumps({"name": "snowy_village", "negative_prompt": "cartoon"})))
    con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", (
        "rs_1a2b3c4d5e6f", "ps_9f8e7d6c5b4a", "transfer", "completed", "2025-03-01 10:05:00",
        "2025-03-01 10:20:00", "2025-03-01 10:06:00", "2025-03-01 10:20:00",
        json.dumps({"weights": {"vis": 0.2, "edge": 0.4, "depth": 0.6, "seg": 0.0},
                    "num_steps": 30, "guidance": 6.0, "seed": 7}),
        json.dumps({"output_path": "outputs/snowy_village/output.mp4"}), json.dumps({}),
        "outputs/snowy_village/run.log", None))
    con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", (
        "rs_badbadbad000", "ps_9f8e7d6c5b4a", "transfer", "failed", "2025-03-01 11:00:00", None,
        None, None, json.dumps({"weights": {"vis": -3}}), json.dumps({}), json.dumps({}), None,
        "boom"))
    con.commit()
    con.close()


def test_import_json_specs_is_idempotent_and_reports_skips(cosmos):
    first = cosmos.json("import", FIXTURES)
    assert first["imported_prompts"] == 2
    assert first["imported_runs"] == 1
    skipped = [i for i in first["items"] if i["action"] == "skipped"]
    assert any("not a prompt or run spec" in i["reason"] for i in skipped)
    malformed = [i for i in skipped if "malformed JSON" in i["reason"]]
    assert len(malformed) == 1 and "night_rain" in malformed[0]["source"]
    assert "line 8" in malformed[0]["reason"]
    prompt = cosmos.json("show", "ps_ace0bae276be")
    assert prompt["prompt"] == "A futuristic city at sunset"
    assert "\\" not in prompt["input_video"]
    run = cosmos.json("show", "rs_c65826242cac")
    assert run["prompt_id"] == "ps_ace0bae276be"

    second = cosmos.json("import", FIXTURES)
    assert second["imported_prompts"] == 0 and second["imported_runs"] == 0
    assert all(i["action"] == "skipped" for i in second["items"])
    assert any("already imported" in i["reason"] for i in second["items"])
    assert len(cosmos.json("list", "prompts")) == first["imported_prompts"]


def test_import_legacy_database(cosmos, tmp_path):
    db = tmp_path / "cosmos.db"
    make_legacy_db(db)
    report = cosmos.json("import", db)
    assert report["imported_prompts"] == 1 and report["imported_runs"] == 1
    skipped = [i for i in report["items"] if i["action"] == "skipped"]
    assert [i["id"] for i in skipped] == ["rs_badbadbad000"]
    run = cosmos.json("show", "rs_1a2b3c4d5e6f")
    assert run["status"] == "succeeded"
    assert run["params"]["weights"]["depth"] == 0.6 and run["params"]["num_steps"] == 30
    prompt = cosmos.json("show", "ps_9f8e7d6c5b4a")
    assert prompt["name"] == "snowy_village" and prompt["controls"] == {
        "depth": "inputs/videos/village/depth.mp4"}
    again = cosmos.json("import", db)
    assert again["imported_prompts"] == 0 and again["imported_runs"] == 0


def test_import_missing_path_fails_and_writes_nothing(cosmos, tmp_path):
    r = cosmos.run("import", tmp_path / "nope", check=False)
    assert r.returncode == 4
    assert cosmos.json("list", "prompts") == []
