"""An install from a wheel built from a clean copy of the tree (no compiled catalogues in it, as
in a fresh clone) serves the zh-CN interface: the build compiles the catalogues (setup.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from idp.config import new_secret
from tests.e2e.conftest import HTTP_TIMEOUT, serving
from tests.support.processes import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = "idp/web/translations/zh_Hans_CN/LC_MESSAGES/messages.mo"


def _clean_copy(target: Path) -> Path:
    """The tree as a clone would have it: tracked and new files, nothing git ignores (*.mo)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--quiet"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed on its own into a directory that goes first on ``PYTHONPATH``; its
    dependencies come from this environment."""
    work = tmp_path_factory.mktemp("wheel")
    source = _clean_copy(work / "source")
    assert not list(source.rglob("*.mo"))
    _pip("wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(source))
    (wheel,) = (work / "dist").glob("yihao_idp-*.whl")
    assert CATALOGUE in zipfile.ZipFile(wheel).namelist()
    _pip("install", "--no-deps", "--target", str(work / "site"), str(wheel))
    return work / "site"


def test_an_installed_wheel_serves_chinese_pages(installed: Path, tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("IDP_")}
    env.update(
        {
            "PYTHONPATH": str(installed),
            "IDP_ENV": "testing",
            "IDP_INSTANCE_DIR": str(tmp_path),
            "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'yihao.db'}",
            "IDP_SECRET_KEY": new_secret(),
            "IDP_DATA_KEY": new_secret(),
            "IDP_INDEX_KEY": new_secret(),
            "IDP_ARGON2_MEMORY_KIB": "1024",
            "IDP_ARGON2_TIME_COST": "1",
        }
    )
    where = subprocess.run(
        [sys.executable, "-c", "import idp; print(idp.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed)  # not this checkout's idp
    port = free_port()
    with serving(env, port, tmp_path / "serve.log", workers=1) as node:
        page = requests.get(
            node.base_url + "/signed-out",
            headers={"Accept-Language": "zh-CN,zh;q=0.9"},
            timeout=HTTP_TIMEOUT,
        )
    assert page.status_code == 200
    assert "您已退出登录。" in page.text
