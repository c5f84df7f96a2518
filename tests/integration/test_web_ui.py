"""The web UI in a real browser: runs tests/e2e/ui.test.mjs (playwright-core driving Debian's
Chromium) against a real `cosmos serve` with the emulator; see that file for the steps. Skipped,
with the reason, only when Chromium or tests/e2e/node_modules (scripts/install-deps.sh installs
both) are missing."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("COSMOS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
E2E_DIR = SOURCE_DIR / "tests" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _missing():
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not installed (Debian package chromium; scripts/install-deps.sh)"
    if shutil.which("node") is None:
        return "node not installed (scripts/install-deps.sh)"
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    if int(version.lstrip("v").split(".")[0] or 0) < 20:
        return f"node {version.strip()} is too old for playwright-core (needs >= 20)"
    if not (E2E_DIR / "node_modules" / "playwright-core").is_dir():
        return "tests/e2e/node_modules missing (scripts/install-deps.sh runs npm ci --prefix tests/e2e)"
    return None


def test_web_ui_end_to_end_in_chromium(cosmos_bin, emulator_bin):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    env = dict(os.environ)
    env.update({"COSMOS_BIN": os.path.abspath(cosmos_bin),
                "COSMOS_EMULATOR_BIN": os.path.abspath(emulator_bin),
                "CHROMIUM": CHROMIUM})
    proc = subprocess.run(["node", str(E2E_DIR / "ui.test.mjs")], cwd=E2E_DIR, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "# pass 1" in proc.stdout and "# fail 0" in proc.stdout, proc.stdout
