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


def write_spec(path, **fields):
    spec = {"id": "ps_0123456789ab", "prompt": "A calm lake", "name": "lake",
            "input_video_path": "inputs/videos/lake/color.mp4",
            "control_inputs": {"depth": "inputs/videos/lake/depth.mp4"}}
    spec.update(fields)
    path.write_text(json.dumps(spec))
    return path


def reason_of(report, source_part):
    items = [i for i in report["items"] if source_part in i["source"]]
    assert len(items) == 1, report
    return items[0]


def test_imported_prompt_text_is_checked_like_a_created_one(cosmos, tmp_path):
    escape = write_spec(tmp_path / "escape.json", id="ps_00000000000a",
                        prompt="a lake\x1b]0;owned\x07\x1b[2J")
    long = write_spec(tmp_path / "long.json", id="ps_00000000000b", prompt="x" * 1_000_000)
    negative = write_spec(tmp_path / "negative.json", id="ps_00000000000c",
                          negative_prompt="blurry\x1b[1A")
    report = cosmos.json("import", escape, long, negative)
    assert report["imported_prompts"] == 0, report
    assert "prompt text contains the control character \\x1b" in reason_of(report, "escape")["reason"]
    assert "at most 10000 are accepted" in reason_of(report, "long")["reason"]
    assert "negative prompt contains the control character" in reason_of(report, "negative")["reason"]


def test_printers_escape_control_characters_from_the_store(cosmos, tmp_path):
    cosmos.json("import", write_spec(tmp_path / "ok.json"))
    con = sqlite3.connect(cosmos.data_dir / "cosmos.db")
    con.execute("UPDATE prompts SET prompt = ?, name = ? WHERE id = 'ps_0123456789ab'",
                ("lake\x1b]0;owned\x07\x1b[2J\r\u009b31m", "la\x1bke"))
    con.commit()
    con.close()
    for args in (("show", "ps_0123456789ab"), ("list", "prompts"), ("search", "lake")):
        out = cosmos.run(*args).stdout
        assert "\x1b" not in out and "\x07" not in out and "\r" not in out, (args, out)
        assert "\u009b" not in out, (args, out)
    assert "\\x1b]0;owned\\x07\\x1b[2J" in cosmos.run("show", "ps_0123456789ab").stdout


def test_imported_input_paths_are_checked(cosmos, tmp_path):
    cases = {
        "shadow": ({"input_video_path": "/etc/shadow"}, "is not a .mp4 video"),
        "etc": ({"input_video_path": "/etc/color.mp4"}, "a system folder"),
        "root": ({"input_video_path": "/color.mp4"}, "a system folder"),
        "dotdot": ({"input_video_path": "../../../home/u/color.mp4"}, "'..'"),
        "ssh": ({"control_inputs": {"depth": "/home/u/.ssh/depth.mp4"}}, "hidden segment"),
        "newline": ({"input_video_path": "in/lake\n/color.mp4"}, "control character"),
    }
    files = [write_spec(tmp_path / f"{name}.json", id=f"ps_{i:012x}", **fields)
             for i, (name, (fields, _)) in enumerate(cases.items())]
    report = cosmos.json("import", *files)
    assert report["imported_prompts"] == 0, report
    for name, (_, why) in cases.items():
        assert why in reason_of(report, f"{name}.json")["reason"], (name, report)
    assert cosmos.json("list", "prompts") == []


def test_a_cosmos_database_is_refused_whole(cosmos, cosmos_bin, tmp_path):
    from conftest import Cosmos
    other = Cosmos(cosmos_bin, tmp_path / "other")
    other.json("import", FIXTURES)  # a cosmos store with prompts and a run
    cosmos.json("import", os.path.join(FIXTURES, "inputs", "prompts"))  # the same prompts only
    report = cosmos.json("import", other.data_dir / "cosmos.db")
    assert report["imported_prompts"] == 0 and report["imported_runs"] == 0, report
    assert any("a cosmos database, not the Python tool's" in i["reason"]
               for i in report["items"]), report
    assert cosmos.json("list", "runs") == []


def make_lineage_db(path):
    con = sqlite3.connect(path)
    con.executescript("""
    CREATE TABLE prompts (id VARCHAR PRIMARY KEY, model_type VARCHAR NOT NULL, prompt_text TEXT NOT NULL,
                          created_at DATETIME, inputs JSON NOT NULL, parameters JSON NOT NULL);
    CREATE TABLE runs (id VARCHAR PRIMARY KEY, prompt_id VARCHAR NOT NULL REFERENCES prompts(id),
                       model_type VARCHAR NOT NULL, status VARCHAR NOT NULL, created_at DATETIME,
                       updated_at DATETIME, started_at DATETIME, completed_at DATETIME,
                       execution_config JSON NOT NULL, outputs JSON NOT NULL, metadata JSON NOT NULL,
                       log_path VARCHAR(500), error_message TEXT, rating INTEGER);
    """)
    video = json.dumps({"video": "inputs/videos/v/color.mp4"})
    # The enhanced prompt sorts before its parent: the import must write the parent first.
    con.execute("INSERT INTO prompts VALUES (?,?,?,?,?,?)", (
        "ps_1111", "enhance", "A richly detailed harbour at dawn", "2025-03-01 10:00:00", video,
        json.dumps({"name": "harbour_enhanced", "parent_prompt_id": "ps_9999",
                    "enhancement_model": "pixtral"})))
    con.execute("INSERT INTO prompts VALUES (?,?,?,?,?,?)", (
        "ps_9999", "transfer", "A harbour at dawn", "2025-03-01 09:00:00", video,
        json.dumps({"name": "harbour"})))
    con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
        "rs_2222", "ps_9999", "transfer", "completed", "2025-03-01 10:05:00", None, None, None,
        json.dumps({"weights": {"depth": 0.5}, "prompt": "sharp detail"}),
        json.dumps({"output_path": "out/a.mp4"}),
        json.dumps({"rating_note": "sharp"}), None, None, 4))
    con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
        "rs_1111", "ps_9999", "upscale", "completed", "2025-03-01 11:00:00", None, None, None,
        json.dumps({"parent_run_id": "rs_2222", "control_weight": 0.7, "prompt": "crisp"}),
        json.dumps({"output_path": "out/a_4k.mp4"}), json.dumps({}), None, None, None))
    con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
        "rs_3333", "ps_9999", "enhance", "completed", "2025-03-01 09:30:00", None, None, None,
        json.dumps({}), json.dumps({"enhanced_text": "A richly detailed harbour at dawn"}),
        json.dumps({}), None, None, None))
    con.commit()
    con.close()


def test_database_lineage_is_kept_or_reported(cosmos, tmp_path):
    db = tmp_path / "tool.db"
    make_lineage_db(db)
    report = cosmos.json("import", db)
    assert report["imported_prompts"] == 2 and report["imported_runs"] == 3, report
    assert cosmos.json("show", "ps_1111")["parent_id"] == "ps_9999"
    upscale = cosmos.json("show", "rs_1111")
    assert upscale["parent_run_id"] == "rs_2222"
    assert upscale["params"]["weights"] == {"upscale": 0.7}
    reasons = {i["id"]: i["reason"] for i in report["items"]}
    # The upscale's guiding prompt is kept, and sent in its upscaler spec if it runs again.
    assert upscale["params"]["upscale_prompt"] == "crisp"
    assert "guiding prompt" not in reasons.get("rs_1111", "")
    # A transfer run has no guiding prompt: a tool's `prompt` there is named as left out.
    assert "execution_config.prompt left out: only upscale runs" in reasons["rs_2222"]
    assert "upscale_prompt" not in cosmos.json("show", "rs_2222")["params"]
    assert "outputs.enhanced_text" in reasons["rs_3333"] and "left out" in reasons["rs_3333"]
    # The tool's rating is kept (cosmos rate's 1-5 stars), and filters as one set here would.
    assert cosmos.json("show", "rs_2222")["rating"] == 4
    assert "rating" not in reasons["rs_2222"].replace("rating_note", "")
    assert [r["id"] for r in cosmos.json("list", "runs", "--min-rating", "4")] == ["rs_2222"]
    assert cosmos.json("show", "rs_1111")["rating"] is None
    assert "metadata.rating_note" in reasons["rs_2222"]
    assert "parameters.enhancement_model" in reasons["ps_1111"]


def test_database_ratings_outside_one_to_five_are_left_out_with_a_note(cosmos, tmp_path):
    db = tmp_path / "tool.db"
    con = sqlite3.connect(db)
    con.executescript("""
    CREATE TABLE prompts (id VARCHAR PRIMARY KEY, model_type VARCHAR NOT NULL, prompt_text TEXT NOT NULL,
                          created_at DATETIME, inputs JSON NOT NULL, parameters JSON NOT NULL);
    CREATE TABLE runs (id VARCHAR PRIMARY KEY, prompt_id VARCHAR NOT NULL, model_type VARCHAR NOT NULL,
                       status VARCHAR NOT NULL, created_at DATETIME, execution_config JSON NOT NULL,
                       outputs JSON NOT NULL, metadata JSON NOT NULL, rating);
    """)
    con.execute("INSERT INTO prompts VALUES (?,?,?,?,?,?)", (
        "ps_9999", "transfer", "A harbour at dawn", "2025-03-01 09:00:00",
        json.dumps({"video": "inputs/videos/v/color.mp4"}), json.dumps({"name": "harbour"})))
    # A column without a type holds whatever the tool wrote: integers, reals, text.
    ratings = {"rs_0001": 1, "rs_0005": 5.0, "rs_0000": 0, "rs_0007": 7, "rs_0035": 3.5,
               "rs_000a": "good", "rs_000b": -2, "rs_000c": None}
    for rid, rating in ratings.items():
        con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?)", (
            rid, "ps_9999", "transfer", "completed", "2025-03-01 10:05:00",
            json.dumps({"weights": {"depth": 0.5}}), json.dumps({}), json.dumps({}), rating))
    con.commit()
    con.close()
    report = cosmos.json("import", db)
    assert report["imported_runs"] == len(ratings), report  # a bad rating never skips a run
    reasons = {i["id"]: i["reason"] for i in report["items"]}
    assert cosmos.json("show", "rs_0001")["rating"] == 1
    assert cosmos.json("show", "rs_0005")["rating"] == 5
    for rid in ("rs_0000", "rs_0007", "rs_0035", "rs_000a", "rs_000b"):
        assert cosmos.json("show", rid)["rating"] is None, rid
        assert f"rating {ratings[rid]} left out" in reasons[rid], (rid, reasons[rid])
        assert "whole number of stars from 1 to 5" in reasons[rid]
    assert cosmos.json("show", "rs_000c")["rating"] is None
    assert "rating" not in reasons["rs_000c"]
