"""Run ratings from the command line: `cosmos rate RUN_ID... N` / `--clear` (ids by unique
prefix), `cosmos list runs --rating N` / `--min-rating N`, `show` and the run JSON."""
import json


def make_runs(cosmos, input_set, n):
    pid = cosmos.json("create", "prompt", "a foggy harbour at dawn", input_set)["id"]
    return [cosmos.json("create", "run", pid, "--seed", str(i + 1))["id"] for i in range(n)]


def listed(cosmos, *args):
    return [r["id"] for r in cosmos.json("list", "runs", *args)]


def test_rate_list_show_and_clear(cosmos, input_set):
    a, b, c = make_runs(cosmos, input_set, 3)
    assert cosmos.json("show", a)["rating"] is None

    out = cosmos.json("rate", a, b, "4")
    assert [r["id"] for r in out] == [a, b] and all(r["rating"] == 4 for r in out)
    text = cosmos.run("rate", c, "2").stdout
    assert f"{c}  rated 2/5" in text
    cosmos.run("rate", a, "5")  # a rating is replaced

    assert cosmos.json("show", a)["rating"] == 5
    assert "rating    5/5" in cosmos.run("show", a).stdout
    assert "rating    -" not in cosmos.run("show", b).stdout
    assert set(listed(cosmos, "--min-rating", "4")) == {a, b}
    assert listed(cosmos, "--rating", "4") == [b]
    assert listed(cosmos, "--rating", "2") == [c]
    assert listed(cosmos, "--min-rating", "5") == [a]
    assert len(listed(cosmos)) == 3
    table = cosmos.run("list", "runs").stdout.splitlines()
    assert "RATING" in table[0].split()
    assert any(a in line and "5/5" in line for line in table)

    cleared = cosmos.json("rate", "--clear", c)
    assert cleared[0]["rating"] is None
    assert listed(cosmos, "--min-rating", "1") == listed(cosmos, "--min-rating", "4")
    assert "rating    -" in cosmos.run("show", c).stdout


def test_rate_takes_unique_prefixes_and_refuses_before_changing_anything(cosmos, input_set):
    a, b = make_runs(cosmos, input_set, 2)
    # The shortest prefix of a that b does not share (ids are random hex after rs_).
    n = next(i for i in range(4, len(a)) if a[:i] != b[:i])
    assert cosmos.json("rate", a[:n], "3")[0]["id"] == a
    assert cosmos.json("rate", a[3:n], "4")[0]["rating"] == 4  # without rs_

    # A bad rating, an unknown id or an ambiguous prefix rates nothing, not even the good ids.
    for args, code, message in (([b, "6"], 3, "not a whole number from 1 to 5"),
                                ([b, "0"], 3, "not a whole number from 1 to 5"),
                                ([b, "4.5"], 3, "not a whole number"),
                                ([b, "x"], 3, "not a whole number"),
                                ([b], 3, "give the runs and then the rating"),
                                ([b, "rs_ffffffffffffffff0", "4"], 4, "no run rs_ffffffffffffffff0"),
                                ([b, "rs_", "4"], 3, "is ambiguous")):
        r = cosmos.run("rate", *args, check=False)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        assert message in r.stderr, (args, r.stderr)
    assert cosmos.json("show", b)["rating"] is None
    r = cosmos.run("rate", b, "3", "--json", check=False)
    assert r.returncode == 0 and json.loads(r.stdout)[0]["rating"] == 3

    # The list filters refuse what is not a rating (usage, exit 2), and not both at once.
    for args in (["--rating", "6"], ["--min-rating", "0"], ["--rating", "3", "--min-rating", "2"]):
        assert cosmos.run("list", "runs", *args, check=False).returncode == 2, args
    assert "--min-rating" in cosmos.run("list", "--help").stdout
    assert "cosmos rate" in cosmos.run("rate", "--help").stdout
