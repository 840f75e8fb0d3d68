from orchestrator_client._proto.orchestrator.v1 import cluster_pb2 as _cluster_pb2
from orchestrator_client._proto.orchestrator.v1 import trial_pb2 as _trial_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
SWEEP_CHANGE_CANCELLED: SweepChange
SWEEP_CHANGE_COMPLETE: SweepChange
SWEEP_CHANGE_RESUMED: SweepChange
SWEEP_CHANGE_SUBMITTED: SweepChange
SWEEP_CHANGE_UNSPECIFIED: SweepChange

class CancelRequest(_message.Message):
    __slots__ = ["reason", "sweep_id"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    reason: str
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelResponse(_message.Message):
    __slots__ = ["cancelled", "sweep_id", "was_running"]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    WAS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    cancelled: int
    sweep_id: str
    was_running: bool
    def __init__(self, sweep_id: _Optional[str] = ..., cancelled: _Optional[int] = ..., was_running: bool = ...) -> None: ...

class FellBehind(_message.Message):
    __slots__ = ["reason", "resume_from"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESUME_FROM_FIELD_NUMBER: _ClassVar[int]
    reason: str
    resume_from: int
    def __init__(self, resume_from: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "sweep_id", "with_sweep_file"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    WITH_SWEEP_FILE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    sweep_id: str
    with_sweep_file: bool
    def __init__(self, sweep_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., with_sweep_file: bool = ...) -> None: ...

class JobStateChanged(_message.Message):
    __slots__ = ["job_id", "kind", "node", "parameters", "seed", "slot", "state", "stop_reason", "summary", "sweep_best", "sweep_counts", "sweep_id"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STOP_REASON_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SWEEP_BEST_FIELD_NUMBER: _ClassVar[int]
    SWEEP_COUNTS_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    kind: _cluster_pb2.JobKind
    node: str
    parameters: _containers.ScalarMap[str, str]
    seed: int
    slot: int
    state: _cluster_pb2.JobState
    stop_reason: str
    summary: _trial_pb2.TrialSummary
    sweep_best: _cluster_pb2.Recipe
    sweep_counts: _cluster_pb2.JobCounts
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., job_id: _Optional[str] = ..., kind: _Optional[_Union[_cluster_pb2.JobKind, str]] = ..., state: _Optional[_Union[_cluster_pb2.JobState, str]] = ..., node: _Optional[str] = ..., slot: _Optional[int] = ..., summary: _Optional[_Union[_trial_pb2.TrialSummary, _Mapping]] = ..., parameters: _Optional[_Mapping[str, str]] = ..., seed: _Optional[int] = ..., sweep_counts: _Optional[_Union[_cluster_pb2.JobCounts, _Mapping]] = ..., sweep_best: _Optional[_Union[_cluster_pb2.Recipe, _Mapping]] = ..., stop_reason: _Optional[str] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListResponse(_message.Message):
    __slots__ = ["nodes", "sweeps"]
    NODES_FIELD_NUMBER: _ClassVar[int]
    SWEEPS_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeSlots]
    sweeps: _containers.RepeatedCompositeFieldContainer[SweepSummary]
    def __init__(self, sweeps: _Optional[_Iterable[_Union[SweepSummary, _Mapping]]] = ..., nodes: _Optional[_Iterable[_Union[NodeSlots, _Mapping]]] = ...) -> None: ...

class NodeEvent(_message.Message):
    __slots__ = ["address", "roles", "state"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    address: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    state: str
    def __init__(self, address: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., state: _Optional[str] = ...) -> None: ...

class NodeSlots(_message.Message):
    __slots__ = ["free_slots", "node", "running_trials"]
    FREE_SLOTS_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    RUNNING_TRIALS_FIELD_NUMBER: _ClassVar[int]
    free_slots: int
    node: str
    running_trials: int
    def __init__(self, node: _Optional[str] = ..., free_slots: _Optional[int] = ..., running_trials: _Optional[int] = ...) -> None: ...

class ReportRequest(_message.Message):
    __slots__ = ["sweep_id"]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ...) -> None: ...

class ReportResponse(_message.Message):
    __slots__ = ["html"]
    HTML_FIELD_NUMBER: _ClassVar[int]
    html: str
    def __init__(self, html: _Optional[str] = ...) -> None: ...

class ResultsPage(_message.Message):
    __slots__ = ["best", "constraints", "front", "jobs", "maximize", "metric", "next_page_token", "objectives", "parameter_names", "total_jobs"]
    BEST_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    FRONT_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    MAXIMIZE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_NAMES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_JOBS_FIELD_NUMBER: _ClassVar[int]
    best: _cluster_pb2.Recipe
    constraints: _containers.RepeatedCompositeFieldContainer[_cluster_pb2.Constraint]
    front: _containers.RepeatedCompositeFieldContainer[_cluster_pb2.Recipe]
    jobs: _containers.RepeatedCompositeFieldContainer[_cluster_pb2.JobStatus]
    maximize: bool
    metric: str
    next_page_token: str
    objectives: _containers.RepeatedCompositeFieldContainer[_cluster_pb2.Objective]
    parameter_names: _containers.RepeatedScalarFieldContainer[str]
    total_jobs: int
    def __init__(self, jobs: _Optional[_Iterable[_Union[_cluster_pb2.JobStatus, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_jobs: _Optional[int] = ..., metric: _Optional[str] = ..., best: _Optional[_Union[_cluster_pb2.Recipe, _Mapping]] = ..., parameter_names: _Optional[_Iterable[str]] = ..., maximize: bool = ..., objectives: _Optional[_Iterable[_Union[_cluster_pb2.Objective, _Mapping]]] = ..., constraints: _Optional[_Iterable[_Union[_cluster_pb2.Constraint, _Mapping]]] = ..., front: _Optional[_Iterable[_Union[_cluster_pb2.Recipe, _Mapping]]] = ...) -> None: ...

class ResultsRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "sweep_id"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class RetryRequest(_message.Message):
    __slots__ = ["failed", "sweep_id"]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    failed: bool
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., failed: bool = ...) -> None: ...

class RetryResponse(_message.Message):
    __slots__ = ["retried", "sweep_id"]
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    retried: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., retried: _Optional[int] = ...) -> None: ...

class SnapshotJobs(_message.Message):
    __slots__ = ["jobs", "last", "offset", "sweep_id"]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[_cluster_pb2.JobStatus]
    last: bool
    offset: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., offset: _Optional[int] = ..., jobs: _Optional[_Iterable[_Union[_cluster_pb2.JobStatus, _Mapping]]] = ..., last: bool = ...) -> None: ...

class SubmitRequest(_message.Message):
    __slots__ = ["content", "file_name"]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    file_name: str
    def __init__(self, file_name: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class SubmitResponse(_message.Message):
    __slots__ = ["already_done", "baselines", "jobs", "output_directory", "prior_points", "soft_target_jobs", "students", "sweep_id", "teachers"]
    ALREADY_DONE_FIELD_NUMBER: _ClassVar[int]
    BASELINES_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    PRIOR_POINTS_FIELD_NUMBER: _ClassVar[int]
    SOFT_TARGET_JOBS_FIELD_NUMBER: _ClassVar[int]
    STUDENTS_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    TEACHERS_FIELD_NUMBER: _ClassVar[int]
    already_done: int
    baselines: int
    jobs: int
    output_directory: str
    prior_points: int
    soft_target_jobs: int
    students: int
    sweep_id: str
    teachers: int
    def __init__(self, sweep_id: _Optional[str] = ..., jobs: _Optional[int] = ..., already_done: _Optional[int] = ..., teachers: _Optional[int] = ..., soft_target_jobs: _Optional[int] = ..., students: _Optional[int] = ..., output_directory: _Optional[str] = ..., baselines: _Optional[int] = ..., prior_points: _Optional[int] = ...) -> None: ...

class SweepStateChanged(_message.Message):
    __slots__ = ["change", "counts", "sweep_id", "total_jobs"]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_JOBS_FIELD_NUMBER: _ClassVar[int]
    change: SweepChange
    counts: _cluster_pb2.JobCounts
    sweep_id: str
    total_jobs: int
    def __init__(self, sweep_id: _Optional[str] = ..., change: _Optional[_Union[SweepChange, str]] = ..., counts: _Optional[_Union[_cluster_pb2.JobCounts, _Mapping]] = ..., total_jobs: _Optional[int] = ...) -> None: ...

class SweepSummary(_message.Message):
    __slots__ = ["best_metric", "cancelled", "cancelled_sweep", "complete", "done", "failed", "jobs", "metric", "queued", "running", "stopped", "sweep_id"]
    BEST_METRIC_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_SWEEP_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    STOPPED_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    best_metric: float
    cancelled: int
    cancelled_sweep: bool
    complete: bool
    done: int
    failed: int
    jobs: int
    metric: str
    queued: int
    running: int
    stopped: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., complete: bool = ..., jobs: _Optional[int] = ..., queued: _Optional[int] = ..., running: _Optional[int] = ..., done: _Optional[int] = ..., failed: _Optional[int] = ..., metric: _Optional[str] = ..., best_metric: _Optional[float] = ..., cancelled: _Optional[int] = ..., cancelled_sweep: bool = ..., stopped: _Optional[int] = ...) -> None: ...

class WatchEvent(_message.Message):
    __slots__ = ["cursor", "fell_behind", "job", "metrics", "node", "snapshot", "snapshot_jobs", "sweep", "unix_ms"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FELL_BEHIND_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_JOBS_FIELD_NUMBER: _ClassVar[int]
    SWEEP_FIELD_NUMBER: _ClassVar[int]
    UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    cursor: int
    fell_behind: FellBehind
    job: JobStateChanged
    metrics: _trial_pb2.JobProgress
    node: NodeEvent
    snapshot: _cluster_pb2.SweepStatus
    snapshot_jobs: SnapshotJobs
    sweep: SweepStateChanged
    unix_ms: int
    def __init__(self, cursor: _Optional[int] = ..., unix_ms: _Optional[int] = ..., snapshot: _Optional[_Union[_cluster_pb2.SweepStatus, _Mapping]] = ..., sweep: _Optional[_Union[SweepStateChanged, _Mapping]] = ..., job: _Optional[_Union[JobStateChanged, _Mapping]] = ..., metrics: _Optional[_Union[_trial_pb2.JobProgress, _Mapping]] = ..., node: _Optional[_Union[NodeEvent, _Mapping]] = ..., fell_behind: _Optional[_Union[FellBehind, _Mapping]] = ..., snapshot_jobs: _Optional[_Union[SnapshotJobs, _Mapping]] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ["after_cursor", "sweep_id"]
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    after_cursor: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., after_cursor: _Optional[int] = ...) -> None: ...

class SweepChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
