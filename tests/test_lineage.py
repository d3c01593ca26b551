"""Data lineage in the report: DVC-tracked inputs (hash, remote, checked on disk) and MLflow datasets."""

from __future__ import annotations

import hashlib
import json
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from dvc_parts import DVC_CONFIG
from dvc_parts import dvc_file as _dvc_file
from dvc_parts import md5_of as _md5
from gate_data import binary_frame, write_config_text

from pytest_mlgate.cli import main
from pytest_mlgate.lineage import dvc_record
from pytest_mlgate.report import html, plots

GATE = """
task: binary
n_boot: 200
data: {path: data/holdout.csv, target: y}
candidate: {column: cand}
baseline: {column: base}
metrics:
  roc_auc: {margin: 0.05}
drift: {reference: data/reference.csv, columns: [x]}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A DVC repository (`.dvc/config` with a default remote) with a holdout set and a drift reference."""
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text(DVC_CONFIG, encoding="utf-8")
    (tmp_path / "data").mkdir()
    frame = binary_frame(600, seed=3, candidate=2.0, baseline=1.0)
    frame["x"] = np.random.default_rng(1).normal(size=len(frame))
    frame.to_csv(tmp_path / "data" / "holdout.csv", index=False)
    pd.DataFrame({"x": np.random.default_rng(2).normal(size=600)}).to_csv(
        tmp_path / "data" / "reference.csv", index=False
    )
    write_config_text(tmp_path, GATE)
    return tmp_path


def _gate(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    report = project / "report.json"
    code = main(["gate", "-c", str(project / "mlgate.yaml"), "-o", str(report)])
    err = capsys.readouterr().err
    return code, json.loads(report.read_text(encoding="utf-8")), err


def test_dvc_3_hashes_a_file_as_the_plain_md5_of_its_bytes(tmp_path: Path) -> None:
    # What `dvc add` (DVC 3.67.1) wrote for these bytes: CRLF stays CRLF in the hash.
    data = tmp_path / "crlf.csv"
    data.write_bytes(b"a,b\r\n1,2\r\n")
    _dvc_file(data, md5="b202f333fba4fd38d4b8e5e693077aab", size=10)
    record = dvc_record(data)
    assert record is not None and record["status"] == "match", record
    assert record["hash"] == "md5" and record["tracked_by"] == "crlf.csv.dvc"


def test_a_dvc_2_entry_of_a_text_file_matches_with_crlf_read_as_lf(tmp_path: Path) -> None:
    data = tmp_path / "crlf.csv"
    data.write_bytes(b"a,b\r\n1,2\r\n" * 200_000)  # over a 1 MiB block, so a CRLF may straddle two
    lf = hashlib.md5(data.read_bytes().replace(b"\r\n", b"\n"), usedforsecurity=False).hexdigest()
    (tmp_path / "crlf.csv.dvc").write_text(f"outs:\n- md5: {lf}\n  path: crlf.csv\n", encoding="utf-8")
    record = dvc_record(data)
    assert record is not None and record["status"] == "match" and record["hash"] == "md5 (DVC 2)"
    assert "CRLF read as LF" in record["message"]
    # A DVC 3 entry with that hash is a mismatch: DVC 3 hashes the bytes as they are.
    _dvc_file(data, md5=lf)
    assert (dvc_record(data) or {})["status"] == "mismatch"


def test_the_gate_records_the_dvc_hash_and_remote_and_warns_when_the_data_changed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holdout = project / "data" / "holdout.csv"
    _dvc_file(holdout)
    (project / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    reference = project / "data" / "reference.csv"
    # The reference is a pipeline output, written by `dvc repro` into dvc.lock (stage run in data/).
    (project / "dvc.lock").write_text(
        textwrap.dedent(
            f"""\
            schema: '2.0'
            stages:
              sample:
                cmd: python sample.py
                wdir: data
                deps:
                - path: holdout.csv
                  hash: md5
                  md5: 0123456789abcdef0123456789abcdef
                  size: 1
                outs:
                - path: reference.csv
                  hash: md5
                  md5: {_md5(reference)}
                  size: {reference.stat().st_size}
                  remote: backup
            """
        ),
        encoding="utf-8",
    )
    code, report, err = _gate(project, capsys)
    assert code == 0 and "warning" not in err
    records = {r["role"]: r for r in report["provenance"]["dvc"]}
    assert records["data"] | {"path": None} == {
        "role": "data",
        "path": None,
        "tracked_by": "data/holdout.csv.dvc",
        "tracked_path": "data/holdout.csv",
        "md5": _md5(holdout),
        "size": holdout.stat().st_size,
        "hash": "md5",
        "remote": "storage",
        "remote_url": "s3://bucket/dvc-store",  # the password never reaches the report
        "status": "match",
        "message": f"md5 {_md5(holdout)} matches the file",
    }
    # The stage's output wins over the other stage's dependency record, and names its own remote.
    assert records["reference"]["tracked_by"] == "dvc.lock" and records["reference"]["status"] == "match"
    assert records["reference"]["remote"] == "backup" and records["reference"]["md5"] == _md5(reference)
    schema = json.loads((Path(__file__).parents[1] / "pytest_mlgate/schemas/report.schema.json").read_text())
    jsonschema.validate(report, schema)

    with holdout.open("a", encoding="utf-8") as fh:  # edited after `dvc add`, same size or not
        fh.write("1,0.9,0.1,0.0\n")
    code, report, err = _gate(project, capsys)
    assert code == 0
    data = next(r for r in report["provenance"]["dvc"] if r["role"] == "data")
    assert data["status"] == "mismatch" and "but DVC tracks" in data["message"]
    assert f"warning: data `{holdout}`" in err and "dvc pull" in err and "Traceback" not in err

    # The same size with one byte changed is caught by the md5; the Markdown names the result.
    _dvc_file(holdout)
    text = holdout.read_bytes()
    holdout.write_bytes(text[:-3] + (b"1" if text[-3:-2] != b"1" else b"2") + text[-2:])
    code, report, err = _gate(project, capsys)
    data = next(r for r in report["provenance"]["dvc"] if r["role"] == "data")
    assert data["status"] == "mismatch" and f"the file's md5 is {_md5(holdout)}" in data["message"]
    assert main(["report", str(project / "report.json")]) == 0
    assert f"DVC data md5 `{data['md5'][:12]}` (mismatch, remote storage)" in capsys.readouterr().out


def test_a_tracked_folder_is_recorded_not_verified_and_a_broken_dvc_file_is_named(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "data.dvc").write_text(
        "outs:\n- md5: ba5f590a99087d9bc019de7c05e29820.dir\n  size: 4\n  nfiles: 2\n  hash: md5\n  path: data\n",
        encoding="utf-8",
    )
    code, report, err = _gate(project, capsys)
    assert code == 0 and "warning" not in err
    records = {r["role"]: r for r in report["provenance"]["dvc"]}
    assert records["data"]["status"] == records["reference"]["status"] == "not verified"
    assert records["data"]["tracked_path"] == "data" and records["data"]["md5"].endswith(".dir")

    (project / "data" / "holdout.csv.dvc").write_text("outs: [md5: {\n", encoding="utf-8")
    code, report, err = _gate(project, capsys)
    assert code == 0
    data = next(r for r in report["provenance"]["dvc"] if r["role"] == "data")
    assert data["status"] == "unreadable" and "holdout.csv.dvc" in data["message"]
    assert "holdout.csv.dvc` cannot be read as DVC metadata" in err and "Traceback" not in err


def test_untracked_data_adds_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data").mkdir()
    binary_frame(300, seed=1).assign(x=0.0).to_csv(tmp_path / "data" / "holdout.csv", index=False)
    write_config_text(tmp_path, GATE.replace("drift: {reference: data/reference.csv, columns: [x]}\n", ""))
    code, report, _ = _gate(tmp_path, capsys)
    assert code == 0 and "dvc" not in report["provenance"]


@pytest.mark.slow
def test_the_training_runs_dataset_is_shown_and_the_dvc_hash_tags_the_version(
    mlflow_server: Any, trained: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow_parts import (
        SKLEARN_REQUIREMENTS,
        cli,
        client,
        credit_like,
        make_project,
        tracking,
        unique_name,
    )

    name = unique_name("lineage")
    train = credit_like(2000, seed=1)
    with tracking(mlflow_server.url) as mlflow, mlflow.start_run(run_name="train") as run:
        dataset = mlflow.data.from_pandas(train, source="s3://bucket/credit/train.csv", name="credit-train")
        mlflow.log_input(dataset, context="training")
        mlflow.sklearn.log_model(
            trained["strong"], name="model", registered_model_name=name, pip_requirements=SKLEARN_REQUIREMENTS
        )
    project = make_project(tmp_path / "project", mlflow_server.url, trained["holdout"], name=name)
    (project.root / ".dvc").mkdir()
    (project.root / ".dvc" / "config").write_text(DVC_CONFIG, encoding="utf-8")
    holdout = project.root / "holdout.csv"
    _dvc_file(holdout)
    project.config(f"models:/{name}/1")
    assert cli(project, "gate") == 0
    report = json.loads((project.root / "mlgate-report.json").read_text(encoding="utf-8"))
    assert report["provenance"]["candidate"]["datasets"] == [
        {
            "name": "credit-train",
            "digest": dataset.digest,
            "source_type": "s3",
            "source": json.dumps({"uri": "s3://bucket/credit/train.csv"}),
            "context": "training",
        }
    ]
    assert client(mlflow_server.url).get_run(run.info.run_id).inputs.dataset_inputs[0].dataset.digest == (
        dataset.digest
    )
    tags = client(mlflow_server.url).get_model_version(name, "1").tags
    assert tags["mlgate.dvc.data.md5"] == _md5(holdout) and tags["mlgate.dvc.data.status"] == "match"
    assert tags["mlgate.dvc.data.remote"] == "storage (s3://bucket/dvc-store)"
    assert main(["report", str(project.root / "mlgate-report.json")]) == 0
    assert f"candidate trained on credit-train `{dataset.digest[:12]}` (training)" in capsys.readouterr().out
    parsed = _Rows()
    parsed.feed(html.render(report))
    shown = [r for r in parsed.rows if r[:2] == ["candidate", "credit-train"]]
    assert [r[2:4] for r in shown] == [[dataset.digest, "s3"]]


def test_a_monitors_dvc_tracked_reference_profile_is_recorded_and_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from live_logs import generators

    make_logs = generators()
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text(DVC_CONFIG, encoding="utf-8")
    make_logs.production(n=2000, seed=8).to_csv(tmp_path / "production.csv", index=False)
    make_logs.reference(n=1000).to_csv(tmp_path / "ref.csv", index=False)
    profile = tmp_path / "profile.json"
    assert main(["profile", str(tmp_path / "ref.csv"), "-o", str(profile)]) == 0
    write_config_text(
        tmp_path,
        """
        logs: {path: production.csv, columns: {arm: model_version}}
        monitor: {arm: 1, days: 3, reference: profile.json}
        """,
        name="monitor.yaml",
    )
    args = ["monitor", "-c", str(tmp_path / "monitor.yaml"), "--now", "2026-12-04T00:00:00Z"]
    _dvc_file(profile)
    report_path = tmp_path / "mlgate-monitor-report.json"
    assert main([*args, "-o", str(report_path)]) == 0
    assert "warning" not in capsys.readouterr().err
    (record,) = json.loads(report_path.read_text(encoding="utf-8"))["provenance"]["dvc"]
    assert record["role"] == "reference" and record["status"] == "match" and record["md5"] == _md5(profile)

    _dvc_file(profile, md5="f" * 32)  # the profile was rebuilt without `dvc add`
    assert main([*args, "-o", str(report_path)]) == 0
    assert f"warning: reference `{profile}`: the file's md5 is {_md5(profile)}" in capsys.readouterr().err

    _dvc_file(profile, md5="0" * 32)  # unquoted, YAML reads this hash as the number 0
    assert main([*args, "-o", str(report_path)]) == 0
    assert "`md5` in `profile.json.dvc` is 0, not text: quote it" in capsys.readouterr().err


class _Rows(HTMLParser):
    """The page's tags, its text, and each table row's cell texts, as an HTML tokenizer reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


HOSTILE = '<img src=x onerror="alert(1)">'


def test_the_html_page_shows_the_lineage_as_text_and_hostile_names_stay_text(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plots, "available", lambda: False)  # the plots cost seconds and are not the point
    # A remote, a data file and a dataset named with markup: user data that must reach the page as text.
    (project / ".dvc" / "config").write_text(
        f"[core]\n    remote = {HOSTILE}\n['remote \"{HOSTILE}\"']\n    url = s3://bucket/<b>store</b>\n",
        encoding="utf-8",
    )
    reference = (project / "data" / "reference.csv").rename(project / "data" / f"ref{HOSTILE}.csv")
    config = project / "mlgate.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("data/reference.csv", f"'data/{reference.name}'"),
        encoding="utf-8",
    )
    holdout = project / "data" / "holdout.csv"
    _dvc_file(holdout)
    tracked, tracked_size = _md5(holdout), holdout.stat().st_size
    with holdout.open("a", encoding="utf-8") as fh:  # changed after `dvc add`: the page must warn
        fh.write("1,0.9,0.1,0.0\n")
    _dvc_file(reference)
    code, report, _ = _gate(project, capsys)
    assert code == 0
    report["provenance"]["candidate"] = {
        **(report["provenance"]["candidate"] or {}),
        "datasets": [{"name": HOSTILE, "digest": "d1g35t", "source_type": "s3", "source": "s3://b/t.csv",
                      "context": "training"}],
    }  # fmt: skip
    (project / "report.json").write_text(json.dumps(report), encoding="utf-8")
    page = tmp_path / "r.html"
    assert main(["report", str(project / "report.json"), "--format", "html", "-o", str(page)]) == 0

    parsed = _Rows()
    parsed.feed(page.read_text(encoding="utf-8"))
    assert "img" not in parsed.tags and "b" not in parsed.tags  # nothing of the names became markup
    rows = {r[0]: r for r in parsed.rows if r and r[0] in ("data", "reference", "candidate")}
    _, file, tracked_by, md5, size, hashed, remote, status, _ = rows["data"]
    assert (file, tracked_by, md5, hashed, status) == (
        "data/holdout.csv", "data/holdout.csv.dvc", tracked, "md5", "mismatch"
    )  # fmt: skip
    assert size == f"{tracked_size} bytes"
    assert remote == f"{HOSTILE} (s3://bucket/<b>store</b>)"
    assert rows["reference"][1] == f"data/{reference.name}" and rows["reference"][7] == "match"
    assert rows["candidate"][1:3] == [HOSTILE, "d1g35t"]
    text = "".join(parsed.text)
    assert (
        "Data lineage" in text
        and f"Warning: data `{holdout}`: {holdout.stat().st_size:,} bytes on disk, but DVC tracks" in text
    )
    # Without lineage there is no section.
    del report["provenance"]["dvc"], report["provenance"]["candidate"]["datasets"]
    assert "Data lineage" not in html.render(report)
