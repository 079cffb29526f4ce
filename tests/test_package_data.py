"""The wheel ships every file the service reads at run time: templates, static assets and
vendored JS/CSS, text catalogs, word lists, migrations. Built offline from a copy of the
sources (nothing is written into the checkout), then run from the unpacked wheel.

Not marked `db`: it runs once, in the SQLite pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The packages of [tool.setuptools.packages.find], each with everything under it.
PACKAGES = ("core", "conversations", "httpkit", "bot", "admin_api", "console", "app", "migrations")


def _not_shipped(name: str) -> bool:
    """Caches and editors' files ([tool.setuptools.exclude-package-data])."""
    return name == "__pycache__" or name.startswith(".") or name.endswith(("~", ".pyc"))


def source_files(root: Path) -> set[str]:
    """Every file under the packages, as a path inside the wheel."""
    found: set[str] = set()
    for package in PACKAGES:
        for folder, dirs, files in os.walk(root / package):
            dirs[:] = [d for d in dirs if not _not_shipped(d)]
            for name in files:
                if not _not_shipped(name):
                    found.add((Path(folder) / name).relative_to(root).as_posix())
    return found


PIP_WHEEL = (
    sys.executable,
    "-m",
    "pip",
    "wheel",
    "--no-deps",
    "--no-build-isolation",
    "--no-index",
    "-q",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline (`pip wheel --no-build-isolation --no-index`) from a copy."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "*~")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=ignore)
    out = base / "dist"
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    built = subprocess.run(
        [*PIP_WHEEL, "--wheel-dir", str(out), str(src)],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, (
        "the wheel did not build (the dev tools include setuptools>=70.1: `make test` "
        f"installs them):\n{built.stdout}\n{built.stderr}"
    )
    (found,) = out.glob("asn_feedback-*.whl")
    return found


def test_the_wheel_has_every_file_under_the_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = {n for n in z.namelist() if ".dist-info/" not in n}
    # The copy it was built from: the same files as the checkout, at one moment.
    expected = source_files(wheel.parent.parent / "src")
    # What the code opens at run time is among them (a sanity check of the walk itself).
    for opened in (
        "console/templates/base.html",
        "console/static/console.css",
        "console/static/vendor/htmx/htmx.min.js",
        "console/locales/id/LC_MESSAGES/console.po",
        "conversations/locales/en/LC_MESSAGES/conversations.po",
        "core/shared/locales/id/LC_MESSAGES/core.po",
        "core/people/wordlists/common-passwords.txt.gz",
        "admin_api/static/swagger-ui/swagger-ui-bundle.js",
        "admin_api/static/redoc/redoc.standalone.js",
        "migrations/env.py",
        "migrations/script.py.mako",
    ):
        assert opened in expected, opened
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel (see [tool.setuptools.package-data]): {missing}"
    extra = sorted(names - expected)
    assert not extra, f"in the wheel but not under the packages: {extra}"


RUN_FROM_THE_WHEEL = """
import sys
from pathlib import Path

from starlette.testclient import TestClient

import admin_api, app, console, conversations, core

root = Path(sys.argv[1]).resolve()
for module in (admin_api, app, console, conversations, core):
    assert Path(module.__file__).resolve().is_relative_to(root), module.__file__

from app.site import create_site
from core.policies import build
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade

url = "sqlite:///" + str(Path(sys.argv[2]).resolve())
upgrade(url)
settings = load_settings(database_url=url, environment="test", _env_file=None)
with TestClient(create_site(build(settings, make_engine(url)))) as client:
    for path in (
        "/readyz",
        "/staff/login",
        "/staff/static/console.css",
        "/staff/static/vendor/htmx/htmx.min.js",
        "/api/docs",
        "/api/static/swagger-ui/swagger-ui-bundle.js",
    ):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    login = client.get("/staff/login", headers={"accept-language": "id"}).text
    assert "Masuk" in login, login[:500]
print("the service ran from the wheel")
"""


def test_the_service_runs_from_the_unpacked_wheel(wheel: Path, tmp_path: Path) -> None:
    """The migrations, templates, catalogs and assets are found where the wheel puts them."""
    unpacked = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(unpacked)
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    env = {k: v for k, v in env.items() if not k.startswith(("DATABASE", "TELEGRAM"))}
    ran = subprocess.run(
        [sys.executable, "-c", RUN_FROM_THE_WHEEL, str(unpacked), str(tmp_path / "w.db")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "the service ran from the wheel" in ran.stdout
