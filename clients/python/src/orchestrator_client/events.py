"""The Watch stream's events as typed Python objects: each keeps the fields a notebook reads most, and .message (the protobuf) for the rest."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, List, Optional, Union

from ._proto.orchestrator.v1 import cluster_pb2, sweeps_pb2, trial_pb2

JOB_STATES = {
    cluster_pb2.JOB_STATE_QUEUED: "queued",
    cluster_pb2.JOB_STATE_RUNNING: "running",
    cluster_pb2.JOB_STATE_DONE: "done",
    cluster_pb2.JOB_STATE_FAILED: "failed",
    cluster_pb2.JOB_STATE_CANCELLED: "cancelled",
    cluster_pb2.JOB_STATE_STOPPED: "stopped",
}
"""A job's state as the CLI and results.csv name it."""

JOB_KINDS = {
    cluster_pb2.JOB_KIND_TEACHER: "teacher",
    cluster_pb2.JOB_KIND_SOFT_TARGETS: "soft-targets",
    cluster_pb2.JOB_KIND_BASELINE: "baseline",
    cluster_pb2.JOB_KIND_STUDENT: "student",
    cluster_pb2.JOB_KIND_SOFT_TARGET_SHARD: "soft-target-shard",
}
"""A job's kind as results.csv names it, in the order results list them."""

SWEEP_CHANGES = {
    sweeps_pb2.SWEEP_CHANGE_SUBMITTED: "submitted",
    sweeps_pb2.SWEEP_CHANGE_COMPLETE: "complete",
    sweeps_pb2.SWEEP_CHANGE_CANCELLED: "cancelled",
    sweeps_pb2.SWEEP_CHANGE_RESUMED: "resumed",
}


@dataclass(frozen=True)
class Event:
    """Every event's cursor (pass the last one to watch(after=...) to continue exactly after it) and when it happened."""

    cursor: int
    time: datetime


@dataclass(frozen=True)
class Snapshot(Event):
    """A sweep's status (counts, best point, front) when the watch began or caught up; its jobs follow in SnapshotJobs."""

    sweep: str
    complete: bool
    cancelled: bool
    message: cluster_pb2.SweepStatus = field(repr=False)


@dataclass(frozen=True)
class SnapshotJobs(Event):
    """A chunk of the snapshot's jobs (at most 1,000), in results order from .offset; .last on the final chunk."""

    sweep: str
    offset: int
    jobs: List[cluster_pb2.JobStatus] = field(repr=False)
    last: bool


@dataclass(frozen=True)
class SweepChanged(Event):
    """The sweep was submitted, completed (every job finished), cancelled or resumed."""

    sweep: str
    change: str
    total_jobs: int
    message: sweeps_pb2.SweepStateChanged = field(repr=False)


@dataclass(frozen=True)
class JobChanged(Event):
    """A job changed state; a finished one carries its summary, and a finished student the sweep's best point after it."""

    sweep: str
    job: str
    kind: str
    state: str
    parameters: Dict[str, str]
    seed: int
    summary: Optional[trial_pb2.TrialSummary] = field(repr=False)
    best: Optional[cluster_pb2.Recipe] = field(repr=False)
    message: sweeps_pb2.JobStateChanged = field(repr=False)


@dataclass(frozen=True)
class EpochFinished(Event):
    """A running job finished an epoch: its validation accuracy and loss, and every other metric in .metrics."""

    sweep: str
    job: str
    epoch: int
    epochs: int
    val_accuracy: float
    val_loss: float
    metrics: trial_pb2.EpochMetrics = field(repr=False)


@dataclass(frozen=True)
class NodeChanged(Event):
    """A GPU node joined (state 'up') or left ('left') the cluster."""

    address: str
    roles: List[str]
    state: str


@dataclass(frozen=True)
class FellBehind(Event):
    """The coordinator no longer holds the events after the cursor asked for (it restarted, or the watcher was far
    behind); snapshots of the current state follow, and the watch goes on from .resume_from."""

    resume_from: int
    reason: str


WatchEvent = Union[Snapshot, SnapshotJobs, SweepChanged, JobChanged, EpochFinished, NodeChanged, FellBehind]


def from_message(event: sweeps_pb2.WatchEvent) -> Optional[WatchEvent]:
    """The typed event for a WatchEvent message; None for a kind this client predates (a newer coordinator's)."""
    cursor, time = event.cursor, datetime.fromtimestamp(event.unix_ms / 1000, tz=timezone.utc)
    kind = event.WhichOneof("event")
    if kind == "snapshot":
        s = event.snapshot
        return Snapshot(cursor, time, s.sweep_id, s.complete, s.cancelled, s)
    if kind == "snapshot_jobs":
        chunk = event.snapshot_jobs
        return SnapshotJobs(cursor, time, chunk.sweep_id, chunk.offset, list(chunk.jobs), chunk.last)
    if kind == "sweep":
        s = event.sweep
        return SweepChanged(cursor, time, s.sweep_id, SWEEP_CHANGES.get(s.change, "unknown"), s.total_jobs, s)
    if kind == "job":
        j = event.job
        return JobChanged(cursor, time, j.sweep_id, j.job_id, JOB_KINDS.get(j.kind, "unknown"), JOB_STATES.get(j.state, "unknown"),
                          dict(j.parameters), j.seed, j.summary if j.HasField("summary") else None,
                          j.sweep_best if j.HasField("sweep_best") else None, j)
    if kind == "metrics":
        m = event.metrics
        return EpochFinished(cursor, time, m.sweep_id, m.job_id, m.metrics.epoch, m.epochs, m.metrics.validation_accuracy,
                             m.metrics.validation_loss, m.metrics)
    if kind == "node":
        n = event.node
        return NodeChanged(cursor, time, n.address, list(n.roles), n.state)
    if kind == "fell_behind":
        return FellBehind(cursor, time, event.fell_behind.resume_from, event.fell_behind.reason)
    return None
