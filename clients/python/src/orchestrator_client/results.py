"""A sweep's results as rows with the columns of results.csv (the coordinator's ResultsTable, which a test holds
this to): one per job, parameters as columns, cost columns, the Pareto front, each student's gain over its baseline."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Set

from ._proto.orchestrator.v1 import cluster_pb2, sweeps_pb2
from .events import JOB_KINDS, JOB_STATES

COST_COLUMNS = ["params", "macs", "bytes_f32", "bytes_f16", "latency_ms", "latency_runs", "latency_ms_b256", "latency_runs_b256", "latency_device"]

_TRAINS = {cluster_pb2.JOB_KIND_TEACHER, cluster_pb2.JOB_KIND_STUDENT, cluster_pb2.JOB_KIND_BASELINE}
_SOFT_TARGETS = {cluster_pb2.JOB_KIND_SOFT_TARGETS, cluster_pb2.JOB_KIND_SOFT_TARGET_SHARD}


def columns(parameter_names: Iterable[str]) -> List[str]:
    return ["job", "kind", "state", *parameter_names, "seed", "epochs_run", "best_epoch", "best_val_accuracy", "best_val_loss",
            "test_accuracy", "baseline", "gain", "pareto_front", *COST_COLUMNS, "seconds", "pack", "soft_targets",
            "soft_targets_cached", "teachers", "depends_on", "notes", "failure_reason", "stop_reason"]


def point_key(parameters: Dict[str, str]) -> str:
    """A point's identity, as the coordinator writes it (SweepResults.PointKey)."""
    return ", ".join(f"{k}={parameters[k]}" for k in sorted(parameters))


def front_keys(page: sweeps_pb2.ResultsPage) -> Optional[Set[str]]:
    """The points on the Pareto front; None for a sweep of one objective (the column stays empty)."""
    return None if len(page.objectives) == 0 else {point_key(dict(r.parameters)) for r in page.front}


def row(job: cluster_pb2.JobStatus, parameter_names: List[str], front: Optional[Set[str]]) -> Dict[str, Any]:
    """The job's row; 'gain' is filled in by add_gains once every baseline is known. What does not apply is None, never 0."""
    s = job.summary if job.HasField("summary") else None
    trial, measured = job.kind in _TRAINS, job.kind in _TRAINS or job.kind == cluster_pb2.JOB_KIND_SOFT_TARGETS
    cost = s.cost if trial and s is not None and s.HasField("cost") else None
    r: Dict[str, Any] = {"job": job.job_id, "kind": JOB_KINDS.get(job.kind, "unknown"), "state": JOB_STATES.get(job.state, "unknown")}
    for name in parameter_names:
        r[name] = job.parameters.get(name)
    r.update({
        "seed": job.seed if trial else None,
        "epochs_run": s.epochs_run if trial and s else None,
        "best_epoch": s.best_epoch if trial and s else None,
        "best_val_accuracy": s.best_validation_accuracy if measured and s else None,
        "best_val_loss": s.best_validation_loss if trial and s else None,
        "test_accuracy": s.test_accuracy if measured and s and s.HasField("test_accuracy") else None,
        "baseline": job.baseline or None,
        "gain": None,
        "pareto_front": point_key(dict(job.parameters)) in front if front is not None and job.kind == cluster_pb2.JOB_KIND_STUDENT else None,
        "params": s.parameters if trial and s and s.parameters > 0 else None,
        "macs": cost.multiply_accumulates if cost and cost.HasField("multiply_accumulates") else None,
        "bytes_f32": cost.bytes_float32 if cost else None,
        "bytes_f16": cost.bytes_float16 if cost else None,
        "latency_ms": cost.latency_ms_batch1 if cost else None,
        "latency_runs": cost.latency_runs_batch1 if cost else None,
        "latency_ms_b256": cost.latency_ms_batch256 if cost else None,
        "latency_runs_b256": cost.latency_runs_batch256 if cost else None,
        "latency_device": cost.device if cost else None,
        "seconds": s.seconds if s else None,
        "pack": s.pack or None if s else None,
        "soft_targets": s.soft_targets or None if s else None,
        "soft_targets_cached": s.soft_targets_cached if s and job.kind in _SOFT_TARGETS else None,
        "teachers": "; ".join(f"{t.checkpoint} val {t.validation_accuracy * 100:.2f} % test {t.test_accuracy * 100:.2f} %" for t in s.teachers) or None if s else None,
        "depends_on": " ".join(job.depends_on) or None,
        "notes": "; ".join(s.notes) or None if s else None,
        "failure_reason": s.failure_reason or None if s else None,
        "stop_reason": job.stop_reason or None,
    })
    return r


def add_gains(rows: List[Dict[str, Any]]) -> None:
    """A distilled student's test accuracy minus its baseline's (the student alone on labels, same seed)."""
    alone = {r["job"]: r["test_accuracy"] for r in rows if r["kind"] == "baseline" and r["state"] == "done" and r["test_accuracy"] is not None}
    for r in rows:
        if r["baseline"] in alone and r["test_accuracy"] is not None:
            r["gain"] = r["test_accuracy"] - alone[r["baseline"]]
