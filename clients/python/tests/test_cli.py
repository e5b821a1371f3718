"""``yihao-verify``: exit status, output, and where the trust data comes from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sdk_world import NAME, REVOKED_INDEX, Clock, Served, World
from yihao import qr
from yihao.cli import main
from yihao.wire.credential import StatusRef
from yihao.wire.fields import CredentialType


@pytest.fixture
def root_pem(live_world: World, tmp_path: Path) -> Path:
    path = tmp_path / "root-ca.pem"
    path.write_bytes(live_world.root.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture
def cache(live_world: World, tmp_path: Path) -> Path:
    path = tmp_path / "cache.json"
    exported = live_world.verifier(Clock(live_world.now)).export_cache()
    path.write_text(json.dumps(exported), encoding="utf-8")
    return path


def present(world: World, **changes: object) -> str:
    """A presentation for the real clock, which is what the command verifies against."""
    return world.holder.present(world.credential(**changes))


def test_valid_text(
    live_world: World, root_pem: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--root", str(root_pem), "--cache", str(cache), present(live_world)])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0] == "VALID"
    assert f"Name: {NAME}" in lines
    assert f"Identity number: {live_world.id_number}" in lines


def test_revoked_text(
    live_world: World, root_pem: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = present(live_world, status=StatusRef(REVOKED_INDEX, "sl/1"))

    status = main(["--root", str(root_pem), "--cache", str(cache), text])

    lines = capsys.readouterr().out.splitlines()
    assert status == 1
    assert lines[0] == "NOT VALID"
    assert lines[1].startswith("revoked: ")
    assert len(lines) == 2  # no name, no identity number of a certificate that is not valid
    assert live_world.id_number not in "\n".join(lines)


def test_json_output(
    live_world: World, root_pem: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = present(live_world, expires=live_world.now - 3600)

    status = main(["--root", str(root_pem), "--cache", str(cache), "--json", text])

    result = json.loads(capsys.readouterr().out)
    assert status == 1
    assert result["valid"] is False
    assert result["failures"] == ["expired"]
    assert result["fields"] == {}
    assert live_world.id_number not in json.dumps(result)
    assert result["type"] == "id_card" and result["profile_name"] == "id_card.housing_fund"


def test_image_file(live_world: World, root_pem: Path, cache: Path, tmp_path: Path) -> None:
    image = tmp_path / "code.png"
    qr.render(present(live_world)).save(image)

    assert main(["--root", str(root_pem), "--cache", str(cache), str(image)]) == 0


def test_undecodable_text(root_pem: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--root", str(root_pem), "--cache", str(cache), "YH1:abc"])

    assert status == 1
    assert capsys.readouterr().out.splitlines()[:2] == ["NOT VALID", "bad_base45: not valid base45"]


def test_trust_url_fetches_and_saves_the_cache(
    live_world: World, root_pem: Path, server: Served, tmp_path: Path
) -> None:
    url = server.publish(live_world)
    saved = tmp_path / "fetched.json"

    assert (
        main(["--root", str(root_pem), "--trust", url, "--cache", str(saved), present(live_world)])
        == 0
    )
    server.routes.clear()  # offline from here on
    assert main(["--root", str(root_pem), "--cache", str(saved), present(live_world)]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["YH1:ABC"],  # no --root
        ["--root", "{tmp}/missing.pem", "--cache", "{cache}", "YH1:ABC"],
        ["--root", "{cache}", "--cache", "{cache}", "YH1:ABC"],  # not a PEM
        ["--root", "{root}", "YH1:ABC"],  # neither --trust nor --cache
        ["--root", "{root}", "--cache", "{tmp}/missing.json", "YH1:ABC"],
        ["--root", "{root}", "--cache", "{root}", "YH1:ABC"],  # not JSON
        ["--root", "{root}", "--trust", "http://127.0.0.1:9/trust", "YH1:ABC"],
        ["--root", "{root}", "--cache", "{cache}"],  # no input
    ],
)
def test_usage_errors(
    argv: list[str],
    root_pem: Path,
    cache: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    filled = [a.format(tmp=tmp_path, cache=cache, root=root_pem) for a in argv]

    status = main(filled)

    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("yihao-verify: ")


def test_console_script(live_world: World, root_pem: Path, cache: Path) -> None:
    script = Path(sys.executable).with_name("yihao-verify")
    args = [str(script), "--root", str(root_pem), "--cache", str(cache)]

    valid = subprocess.run([*args, present(live_world)], capture_output=True, text=True)
    invalid = subprocess.run([*args, "nonsense"], capture_output=True, text=True)
    usage = subprocess.run([str(script)], capture_output=True, text=True)

    assert (valid.returncode, valid.stdout.splitlines()[0]) == (0, "VALID")
    assert (invalid.returncode, invalid.stdout.splitlines()[:2]) == (
        1,
        ["NOT VALID", "bad_prefix: does not start with YH1:"],
    )
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_a_value_too_long_to_print(
    live_world: World, root_pem: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A signed integer of 6,000 digits: Python refuses to print it, the command must not crash."""
    changes: dict[str, object] = {
        "type": CredentialType.BUSINESS_LICENCE,
        "profile": 99,
        "fields": {"registered_capital": 2**20000},
    }
    text = present(live_world, **changes)
    args = ["--root", str(root_pem), "--cache", str(cache), text]

    assert main(args) == 0
    assert "Registered capital (yuan): -" in capsys.readouterr().out.splitlines()
    args[-1] = live_world.holder.present(live_world.credential(**changes))  # not a replay
    assert main(["--json", *args]) == 0
    assert json.loads(capsys.readouterr().out)["fields"] == {"registered_capital": None}


def test_a_code_scanned_twice_is_refused_the_second_time(
    live_world: World, root_pem: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--root", str(root_pem), "--cache", str(cache), present(live_world)]

    assert main(args) == 0
    assert main(args) == 1  # a new verifier, but the cache file remembers

    assert capsys.readouterr().out.splitlines()[-2:] == [
        "NOT VALID",
        "replay: this presentation was already accepted here",
    ]
    assert not list(cache.parent.glob("cache.json.*[!k]"))  # no temporary file left behind


def test_concurrent_scans_of_one_code_accept_it_once(
    live_world: World, root_pem: Path, cache: Path
) -> None:
    script = Path(sys.executable).with_name("yihao-verify")
    command = [str(script), "--root", str(root_pem), "--cache", str(cache)]
    text = present(live_world)
    runs = [subprocess.Popen([*command, text], stdout=subprocess.DEVNULL) for _ in range(4)]

    assert sorted(run.wait(timeout=60) for run in runs) == [0, 1, 1, 1]
    assert json.loads(cache.read_text(encoding="utf-8"))["replays"]  # the file is whole


def test_a_served_list_older_than_the_cached_one_is_refused(
    live_world: World, root_pem: Path, server: Served, tmp_path: Path
) -> None:
    saved = tmp_path / "held.json"
    newer = live_world.verifier(Clock(live_world.now))
    newer.load_trust_list(live_world.trust_list(sequence=5))
    saved.write_text(json.dumps(newer.export_cache()), encoding="utf-8")
    url = server.publish(live_world)  # sequence 1: a replay of an old list

    args = ["--root", str(root_pem), "--trust", url, "--cache", str(saved), present(live_world)]
    assert main(args) == 2
    assert json.loads(saved.read_text(encoding="utf-8")) == newer.export_cache()
