"""Put a gate report where the candidate lives: on its run and on its registered version.

After this, "what data and code was the production model gated on?" is a
lookup: the version's ``mlgate.*`` and ``git.sha`` tags, and the report
artifact on its run whose sha256 is the ``mlgate.report_sha256`` tag.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..lineage import dvc_tags
from .connect import client, failure

if TYPE_CHECKING:
    from ..config import GateConfig
    from ..results import GateReport

REPORT_ARTIFACT_DIR = "mlgate"
TAGS = ("mlgate.decision", "mlgate.report_sha256", "mlgate.data_sha256", "mlgate.config_sha256", "git.sha")
_FIGURES = ("value", "baseline", "delta")


@dataclass(frozen=True)
class Published:
    run_id: str | None
    model_name: str | None
    version: str | None
    report_sha256: str
    metrics: int

    def __str__(self) -> str:
        where = []
        if self.run_id:
            where.append(f"run {self.run_id} (report + {self.metrics} metrics)")
        if self.version:
            where.append(f"{self.model_name} v{self.version} (tags {', '.join(TAGS)})")
        return "logged to " + " and ".join(where) + f"; report sha256 {self.report_sha256[:12]}"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def should_publish(report: GateReport, config: GateConfig) -> bool:
    candidate = report.provenance.get("candidate") or {}
    return bool(config.mlflow.log and candidate.get("kind") == "mlflow")


def publish(report: GateReport, report_path: Path, config: GateConfig) -> Published | None:
    """Log the written report to the candidate's run and tag its version; None when there is nothing to do."""
    if not should_publish(report, config):
        return None
    candidate: dict[str, Any] = report.provenance["candidate"]
    uri = config.tracking_uri()
    c = client(uri)
    digest = sha256_file(report_path)
    run_id, name, version = candidate.get("run_id"), candidate.get("model_name"), candidate.get("version")
    metrics = _metrics(report)
    if run_id:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        try:
            c.log_artifact(run_id, str(report_path), artifact_path=REPORT_ARTIFACT_DIR)
            c.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()])
        except Exception as exc:
            raise failure(exc, uri, f"logging the report to run `{run_id}`") from None
    if name and version:
        provenance = report.provenance
        tags = {
            "mlgate.decision": report.decision,
            "mlgate.report_sha256": digest,
            "mlgate.data_sha256": str(provenance["data"]["sha256"]),
            "mlgate.config_sha256": str(provenance["config"]["sha256"]),
            "git.sha": str(provenance.get("git_sha") or "unknown"),
            "mlgate.gated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "mlgate.baseline": _baseline_pin(provenance.get("baseline")),
            **dvc_tags(provenance),
        }
        try:
            for key, value in tags.items():
                c.set_model_version_tag(name, version, key, value)
        except Exception as exc:
            raise failure(exc, uri, f"tagging `{name}` v{version}") from None
    return Published(run_id, name, version, digest, len(metrics) if run_id else 0)


def _baseline_pin(baseline: dict[str, Any] | None) -> str:
    if not baseline:
        return "none"
    if baseline.get("kind") == "mlflow":
        return str(baseline.get("pinned") or f"{baseline.get('uri')} (not set)")
    return str(baseline.get("name") or baseline.get("path") or "unknown")


def _metrics(report: GateReport) -> dict[str, float]:
    """`mlgate/compare/roc_auc/delta` and friends: every number a comparison or limit decided on."""
    out: dict[str, float] = {}
    for check in report.checks:
        if check.kind not in ("comparison", "threshold"):
            continue
        prefix = "mlgate/" + check.id.replace(":", "/")
        for figure in _FIGURES:
            value = getattr(check, figure)
            if value is not None:
                out[f"{prefix}/{figure}"] = float(value)
        if check.ci is not None:
            out[f"{prefix}/ci_low"] = float(check.ci.low)
            out[f"{prefix}/ci_high"] = float(check.ci.high)
    return {k: v for k, v in out.items() if v == v and abs(v) != float("inf")}
