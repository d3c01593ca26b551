"""The release path: the sdist and wheel a tag publishes, built here offline and checked as PyPI will."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_sdist_and_wheel_build_cleanly_and_pass_twine_check(tmp_path: Path) -> None:
    pytest.importorskip("build")
    pytest.importorskip("twine")
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("copies the checkout's files as git lists them")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    source = tmp_path / "src"
    # A copy, so the build's build/ and egg-info never meet another test's (the Actions harness builds too).
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    (source / "pytest_mlgate" / "__pycache__").mkdir(exist_ok=True)  # must not become a package
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    # Before: "Package 'pytest_mlgate.schemas' is absent from the `packages` configuration."
    assert "absent from the `packages` configuration" not in built.stdout + built.stderr
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(source)) for p in (source / "pytest_mlgate").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names  # every subpackage, none forgotten
    assert {"pytest_mlgate/py.typed", "pytest_mlgate/schemas/report.schema.json"} <= names
    assert "pytest_mlgate/schemas/config.schema.json" in names
    assert not any("__pycache__" in n for n in names)
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(info).decode()
    assert (
        "mlgate = pytest_mlgate.plugin" in entry_points and "mlgate = pytest_mlgate.cli:main" in entry_points
    )
    assert any(n.endswith("licenses/LICENSE") for n in names)
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"README.md", "LICENSE", "pyproject.toml", "pytest_mlgate/schemas/report.schema.json"} <= members


def test_install_hints_name_the_extras_own_requirements(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pip install 'pytest-mlgate[plots]'` fails until a release is on PyPI; the requirements do not."""
    tomllib = pytest.importorskip("tomllib")
    from pytest_mlgate import extras
    from pytest_mlgate.report import html, plots

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in ("plots", "parquet", "sklearn", "mlflow", "onnx", "properties"):
        quoted = " ".join(f"'{r}'" for r in declared[extra])
        assert extras.install_hint(extra) == f"pip install {quoted} (the `{extra}` extra)"
    assert extras.install_hint("no-such-extra") == "pip install 'pytest-mlgate[no-such-extra]'"
    monkeypatch.setattr(plots, "available", lambda: False)
    page = html.render({"decision": "keep", "summary": "KEEP", "checks": [], "provenance": {}})
    assert "Plots need matplotlib: pip install &#x27;matplotlib&gt;=3.7&#x27; (the `plots` extra)." in page
    assert "pytest-mlgate[plots]" not in page
