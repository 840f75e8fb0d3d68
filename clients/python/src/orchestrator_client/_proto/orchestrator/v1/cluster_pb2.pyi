from orchestrator_client._proto.orchestrator.v1 import trial_pb2 as _trial_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
JOB_KIND_BASELINE: JobKind
JOB_KIND_SOFT_TARGETS: JobKind
JOB_KIND_SOFT_TARGET_SHARD: JobKind
JOB_KIND_STUDENT: JobKind
JOB_KIND_TEACHER: JobKind
JOB_KIND_UNSPECIFIED: JobKind
JOB_STATE_CANCELLED: JobState
JOB_STATE_DONE: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_STOPPED: JobState
JOB_STATE_UNSPECIFIED: JobState

class AttemptsReserved(_message.Message):
    __slots__ = ["up_to"]
    UP_TO_FIELD_NUMBER: _ClassVar[int]
    up_to: int
    def __init__(self, up_to: _Optional[int] = ...) -> None: ...

class BayesSearch(_message.Message):
    __slots__ = ["prior", "run_cap", "sampling_seed", "sweep_file", "sweep_path"]
    PRIOR_FIELD_NUMBER: _ClassVar[int]
    RUN_CAP_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_SEED_FIELD_NUMBER: _ClassVar[int]
    SWEEP_FILE_FIELD_NUMBER: _ClassVar[int]
    SWEEP_PATH_FIELD_NUMBER: _ClassVar[int]
    prior: _containers.RepeatedCompositeFieldContainer[PriorPoint]
    run_cap: int
    sampling_seed: int
    sweep_file: str
    sweep_path: str
    def __init__(self, sweep_file: _Optional[str] = ..., sweep_path: _Optional[str] = ..., run_cap: _Optional[int] = ..., sampling_seed: _Optional[int] = ..., prior: _Optional[_Iterable[_Union[PriorPoint, _Mapping]]] = ...) -> None: ...

class CancelJob(_message.Message):
    __slots__ = ["job_id", "sweep_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class CancelSweep(_message.Message):
    __slots__ = ["reason", "sweep_id"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    reason: str
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelSweepJobs(_message.Message):
    __slots__ = ["sweep_id"]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ...) -> None: ...

class Constraint(_message.Message):
    __slots__ = ["max", "min", "name"]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    max: float
    min: float
    name: str
    def __init__(self, name: _Optional[str] = ..., min: _Optional[float] = ..., max: _Optional[float] = ...) -> None: ...

class EarlyTermination(_message.Message):
    __slots__ = ["bands", "eta", "strict"]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    STRICT_FIELD_NUMBER: _ClassVar[int]
    bands: _containers.RepeatedScalarFieldContainer[int]
    eta: float
    strict: bool
    def __init__(self, bands: _Optional[_Iterable[int]] = ..., eta: _Optional[float] = ..., strict: bool = ...) -> None: ...

class EnqueueJob(_message.Message):
    __slots__ = ["job", "resume"]
    JOB_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    job: JobSpec
    resume: bool
    def __init__(self, job: _Optional[_Union[JobSpec, _Mapping]] = ..., resume: bool = ...) -> None: ...

class EpochMeasured(_message.Message):
    __slots__ = ["epoch", "job_id", "value"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    job_id: str
    value: float
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...

class GetSweepStatus(_message.Message):
    __slots__ = ["jobs_limit", "jobs_offset", "sweep_id"]
    JOBS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    JOBS_OFFSET_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    jobs_limit: int
    jobs_offset: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., jobs_offset: _Optional[int] = ..., jobs_limit: _Optional[int] = ...) -> None: ...

class JobAssigned(_message.Message):
    __slots__ = ["attempt", "job_id", "node", "slot", "sweep_id"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    job_id: str
    node: str
    slot: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., job_id: _Optional[str] = ..., node: _Optional[str] = ..., slot: _Optional[int] = ..., attempt: _Optional[int] = ...) -> None: ...

class JobCompleted(_message.Message):
    __slots__ = ["job_id", "summary"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    summary: _trial_pb2.TrialSummary
    def __init__(self, job_id: _Optional[str] = ..., summary: _Optional[_Union[_trial_pb2.TrialSummary, _Mapping]] = ...) -> None: ...

class JobCounts(_message.Message):
    __slots__ = ["cancelled", "done", "failed", "queued", "running", "stopped"]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    STOPPED_FIELD_NUMBER: _ClassVar[int]
    cancelled: int
    done: int
    failed: int
    queued: int
    running: int
    stopped: int
    def __init__(self, queued: _Optional[int] = ..., running: _Optional[int] = ..., done: _Optional[int] = ..., failed: _Optional[int] = ..., cancelled: _Optional[int] = ..., stopped: _Optional[int] = ...) -> None: ...

class JobFinished(_message.Message):
    __slots__ = ["attempt", "job_id", "summary", "sweep_id"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    job_id: str
    summary: _trial_pb2.TrialSummary
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., job_id: _Optional[str] = ..., summary: _Optional[_Union[_trial_pb2.TrialSummary, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...

class JobLost(_message.Message):
    __slots__ = ["attempt", "job_id", "reason", "sweep_id"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    job_id: str
    reason: str
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., job_id: _Optional[str] = ..., reason: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class JobRequeued(_message.Message):
    __slots__ = ["crashed", "environmental", "job_id", "reason"]
    CRASHED_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENTAL_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    crashed: bool
    environmental: bool
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ..., crashed: bool = ..., environmental: bool = ...) -> None: ...

class JobSnapshot(_message.Message):
    __slots__ = ["band_values", "best_so_far", "crashes", "environmental_retries", "epochs_measured", "index", "state", "stop_reason", "summary"]
    BAND_VALUES_FIELD_NUMBER: _ClassVar[int]
    BEST_SO_FAR_FIELD_NUMBER: _ClassVar[int]
    CRASHES_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENTAL_RETRIES_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_MEASURED_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STOP_REASON_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    band_values: _containers.RepeatedScalarFieldContainer[float]
    best_so_far: float
    crashes: int
    environmental_retries: int
    epochs_measured: int
    index: int
    state: JobState
    stop_reason: str
    summary: bytes
    def __init__(self, index: _Optional[int] = ..., state: _Optional[_Union[JobState, str]] = ..., summary: _Optional[bytes] = ..., crashes: _Optional[int] = ..., environmental_retries: _Optional[int] = ..., stop_reason: _Optional[str] = ..., band_values: _Optional[_Iterable[float]] = ..., best_so_far: _Optional[float] = ..., epochs_measured: _Optional[int] = ...) -> None: ...

class JobSpec(_message.Message):
    __slots__ = ["attempt", "epochs", "job_id", "kind", "output_directory", "pack_group", "soft_target_store", "stop_reason", "sweep_id", "work_json"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    PACK_GROUP_FIELD_NUMBER: _ClassVar[int]
    SOFT_TARGET_STORE_FIELD_NUMBER: _ClassVar[int]
    STOP_REASON_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    WORK_JSON_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    epochs: int
    job_id: str
    kind: JobKind
    output_directory: str
    pack_group: PackGroup
    soft_target_store: str
    stop_reason: str
    sweep_id: str
    work_json: str
    def __init__(self, sweep_id: _Optional[str] = ..., job_id: _Optional[str] = ..., work_json: _Optional[str] = ..., output_directory: _Optional[str] = ..., epochs: _Optional[int] = ..., kind: _Optional[_Union[JobKind, str]] = ..., soft_target_store: _Optional[str] = ..., attempt: _Optional[int] = ..., stop_reason: _Optional[str] = ..., pack_group: _Optional[_Union[PackGroup, _Mapping]] = ...) -> None: ...

class JobStarted(_message.Message):
    __slots__ = ["attempt", "job_id", "node", "slot"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    job_id: str
    node: str
    slot: int
    def __init__(self, job_id: _Optional[str] = ..., node: _Optional[str] = ..., slot: _Optional[int] = ..., attempt: _Optional[int] = ...) -> None: ...

class JobStatus(_message.Message):
    __slots__ = ["baseline", "depends_on", "job_id", "kind", "latest", "parameters", "plan_index", "seed", "state", "stop_reason", "summary"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    PLAN_INDEX_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STOP_REASON_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    baseline: str
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    job_id: str
    kind: JobKind
    latest: _trial_pb2.EpochMetrics
    parameters: _containers.ScalarMap[str, str]
    plan_index: int
    seed: int
    state: JobState
    stop_reason: str
    summary: _trial_pb2.TrialSummary
    def __init__(self, job_id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., parameters: _Optional[_Mapping[str, str]] = ..., summary: _Optional[_Union[_trial_pb2.TrialSummary, _Mapping]] = ..., seed: _Optional[int] = ..., depends_on: _Optional[_Iterable[str]] = ..., kind: _Optional[_Union[JobKind, str]] = ..., latest: _Optional[_Union[_trial_pb2.EpochMetrics, _Mapping]] = ..., stop_reason: _Optional[str] = ..., baseline: _Optional[str] = ..., plan_index: _Optional[int] = ...) -> None: ...

class NoProposal(_message.Message):
    __slots__ = ["done", "sweep_id"]
    DONE_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    done: bool
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., done: bool = ...) -> None: ...

class Objective(_message.Message):
    __slots__ = ["maximize", "name"]
    MAXIMIZE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    maximize: bool
    name: str
    def __init__(self, name: _Optional[str] = ..., maximize: bool = ...) -> None: ...

class PackGroup(_message.Message):
    __slots__ = ["cpu_limit", "gpu_limit", "key"]
    CPU_LIMIT_FIELD_NUMBER: _ClassVar[int]
    GPU_LIMIT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    cpu_limit: int
    gpu_limit: int
    key: str
    def __init__(self, key: _Optional[str] = ..., cpu_limit: _Optional[int] = ..., gpu_limit: _Optional[int] = ...) -> None: ...

class PlannedJob(_message.Message):
    __slots__ = ["baseline", "depends_on", "epochs", "job_id", "kind", "overrides_json", "pack_group", "parameters", "seed", "template", "work_json"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_JSON_FIELD_NUMBER: _ClassVar[int]
    PACK_GROUP_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    WORK_JSON_FIELD_NUMBER: _ClassVar[int]
    baseline: str
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    epochs: int
    job_id: str
    kind: JobKind
    overrides_json: str
    pack_group: PackGroup
    parameters: _containers.ScalarMap[str, str]
    seed: int
    template: int
    work_json: str
    def __init__(self, job_id: _Optional[str] = ..., work_json: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ..., seed: _Optional[int] = ..., epochs: _Optional[int] = ..., depends_on: _Optional[_Iterable[str]] = ..., kind: _Optional[_Union[JobKind, str]] = ..., template: _Optional[int] = ..., overrides_json: _Optional[str] = ..., baseline: _Optional[str] = ..., pack_group: _Optional[_Union[PackGroup, _Mapping]] = ...) -> None: ...

class PointProposed(_message.Message):
    __slots__ = ["point", "values"]
    POINT_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    point: str
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ..., point: _Optional[str] = ...) -> None: ...

class PointSnapshot(_message.Message):
    __slots__ = ["first", "key", "loss_mean", "mean", "measure_means", "runs", "squares", "test_mean", "test_squares"]
    FIRST_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LOSS_MEAN_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    MEASURE_MEANS_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    SQUARES_FIELD_NUMBER: _ClassVar[int]
    TEST_MEAN_FIELD_NUMBER: _ClassVar[int]
    TEST_SQUARES_FIELD_NUMBER: _ClassVar[int]
    first: int
    key: str
    loss_mean: float
    mean: float
    measure_means: _containers.RepeatedScalarFieldContainer[float]
    runs: int
    squares: float
    test_mean: float
    test_squares: float
    def __init__(self, key: _Optional[str] = ..., first: _Optional[int] = ..., runs: _Optional[int] = ..., mean: _Optional[float] = ..., test_mean: _Optional[float] = ..., squares: _Optional[float] = ..., test_squares: _Optional[float] = ..., loss_mean: _Optional[float] = ..., measure_means: _Optional[_Iterable[float]] = ...) -> None: ...

class PointStopped(_message.Message):
    __slots__ = ["point", "reason"]
    POINT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    point: str
    reason: str
    def __init__(self, point: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PriorPoint(_message.Message):
    __slots__ = ["objectives", "point", "sweep_id", "values"]
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    objectives: _containers.RepeatedScalarFieldContainer[float]
    point: str
    sweep_id: str
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, sweep_id: _Optional[str] = ..., point: _Optional[str] = ..., values: _Optional[_Iterable[float]] = ..., objectives: _Optional[_Iterable[float]] = ...) -> None: ...

class ProposeJobs(_message.Message):
    __slots__ = ["free_slots", "sweep_id"]
    FREE_SLOTS_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    free_slots: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., free_slots: _Optional[int] = ...) -> None: ...

class Recipe(_message.Message):
    __slots__ = ["measures", "metric_mean", "metric_std", "parameters", "runs", "test_accuracy_mean", "test_accuracy_std", "tied", "validation_loss_mean"]
    class MeasuresEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    METRIC_MEAN_FIELD_NUMBER: _ClassVar[int]
    METRIC_STD_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    TEST_ACCURACY_MEAN_FIELD_NUMBER: _ClassVar[int]
    TEST_ACCURACY_STD_FIELD_NUMBER: _ClassVar[int]
    TIED_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_LOSS_MEAN_FIELD_NUMBER: _ClassVar[int]
    measures: _containers.ScalarMap[str, float]
    metric_mean: float
    metric_std: float
    parameters: _containers.ScalarMap[str, str]
    runs: int
    test_accuracy_mean: float
    test_accuracy_std: float
    tied: int
    validation_loss_mean: float
    def __init__(self, parameters: _Optional[_Mapping[str, str]] = ..., runs: _Optional[int] = ..., metric_mean: _Optional[float] = ..., metric_std: _Optional[float] = ..., test_accuracy_mean: _Optional[float] = ..., test_accuracy_std: _Optional[float] = ..., validation_loss_mean: _Optional[float] = ..., tied: _Optional[int] = ..., measures: _Optional[_Mapping[str, float]] = ...) -> None: ...

class RetrySweep(_message.Message):
    __slots__ = ["all_failed", "sweep_id"]
    ALL_FAILED_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    all_failed: bool
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., all_failed: bool = ...) -> None: ...

class RunJob(_message.Message):
    __slots__ = ["job", "pack", "slot"]
    JOB_FIELD_NUMBER: _ClassVar[int]
    PACK_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    job: JobSpec
    pack: _containers.RepeatedCompositeFieldContainer[JobSpec]
    slot: int
    def __init__(self, job: _Optional[_Union[JobSpec, _Mapping]] = ..., slot: _Optional[int] = ..., pack: _Optional[_Iterable[_Union[JobSpec, _Mapping]]] = ...) -> None: ...

class SlotFree(_message.Message):
    __slots__ = ["capacity", "device", "node", "node_slots", "slot"]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    NODE_SLOTS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    capacity: int
    device: str
    node: str
    node_slots: int
    slot: int
    def __init__(self, node: _Optional[str] = ..., slot: _Optional[int] = ..., device: _Optional[str] = ..., capacity: _Optional[int] = ..., node_slots: _Optional[int] = ...) -> None: ...

class StopJob(_message.Message):
    __slots__ = ["job_id", "sweep_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class SubmitSweep(_message.Message):
    __slots__ = ["bayes", "constraints", "early_termination", "jobs", "maximize", "metric", "name", "objectives", "output_root", "soft_target_store", "sweep_id", "target", "templates"]
    BAYES_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    EARLY_TERMINATION_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    MAXIMIZE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_ROOT_FIELD_NUMBER: _ClassVar[int]
    SOFT_TARGET_STORE_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    bayes: BayesSearch
    constraints: _containers.RepeatedCompositeFieldContainer[Constraint]
    early_termination: EarlyTermination
    jobs: _containers.RepeatedCompositeFieldContainer[PlannedJob]
    maximize: bool
    metric: str
    name: str
    objectives: _containers.RepeatedCompositeFieldContainer[Objective]
    output_root: str
    soft_target_store: str
    sweep_id: str
    target: float
    templates: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sweep_id: _Optional[str] = ..., name: _Optional[str] = ..., metric: _Optional[str] = ..., maximize: bool = ..., output_root: _Optional[str] = ..., jobs: _Optional[_Iterable[_Union[PlannedJob, _Mapping]]] = ..., soft_target_store: _Optional[str] = ..., templates: _Optional[_Iterable[str]] = ..., early_termination: _Optional[_Union[EarlyTermination, _Mapping]] = ..., target: _Optional[float] = ..., bayes: _Optional[_Union[BayesSearch, _Mapping]] = ..., objectives: _Optional[_Iterable[_Union[Objective, _Mapping]]] = ..., constraints: _Optional[_Iterable[_Union[Constraint, _Mapping]]] = ...) -> None: ...

class SweepAccepted(_message.Message):
    __slots__ = ["already_done", "jobs", "prior_points", "sweep_id"]
    ALREADY_DONE_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    PRIOR_POINTS_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    already_done: int
    jobs: int
    prior_points: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., jobs: _Optional[int] = ..., already_done: _Optional[int] = ..., prior_points: _Optional[int] = ...) -> None: ...

class SweepCanPropose(_message.Message):
    __slots__ = ["sweep_id"]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ...) -> None: ...

class SweepCancelAccepted(_message.Message):
    __slots__ = ["cancelled", "sweep_id", "was_running"]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    WAS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    cancelled: int
    sweep_id: str
    was_running: bool
    def __init__(self, sweep_id: _Optional[str] = ..., cancelled: _Optional[int] = ..., was_running: bool = ...) -> None: ...

class SweepCancelled(_message.Message):
    __slots__ = ["reason"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class SweepJobsPlanned(_message.Message):
    __slots__ = ["jobs"]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, jobs: _Optional[_Iterable[bytes]] = ...) -> None: ...

class SweepRejected(_message.Message):
    __slots__ = ["message", "reason", "sweep_id"]
    class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_CANCELLED: SweepRejected.Reason
    REASON_CONFLICT: SweepRejected.Reason
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASON_NOT_FOUND: SweepRejected.Reason
    REASON_UNSPECIFIED: SweepRejected.Reason
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    message: str
    reason: SweepRejected.Reason
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., reason: _Optional[_Union[SweepRejected.Reason, str]] = ..., message: _Optional[str] = ...) -> None: ...

class SweepResumed(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class SweepRetryAccepted(_message.Message):
    __slots__ = ["retried", "sweep_id"]
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    retried: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., retried: _Optional[int] = ...) -> None: ...

class SweepSnapshot(_message.Message):
    __slots__ = ["attempts_reserved", "cancelled", "finished_proposals", "jobs", "moved_jobs", "plan", "points", "proposals", "sweep", "target_reached"]
    ATTEMPTS_RESERVED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    MOVED_JOBS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    SWEEP_FIELD_NUMBER: _ClassVar[int]
    TARGET_REACHED_FIELD_NUMBER: _ClassVar[int]
    attempts_reserved: int
    cancelled: SweepCancelled
    finished_proposals: _containers.RepeatedScalarFieldContainer[int]
    jobs: _containers.RepeatedCompositeFieldContainer[JobSnapshot]
    moved_jobs: bytes
    plan: _containers.RepeatedScalarFieldContainer[bytes]
    points: _containers.RepeatedCompositeFieldContainer[PointSnapshot]
    proposals: _containers.RepeatedCompositeFieldContainer[PointProposed]
    sweep: SubmitSweep
    target_reached: TargetReached
    def __init__(self, sweep: _Optional[_Union[SubmitSweep, _Mapping]] = ..., cancelled: _Optional[_Union[SweepCancelled, _Mapping]] = ..., jobs: _Optional[_Iterable[_Union[JobSnapshot, _Mapping]]] = ..., attempts_reserved: _Optional[int] = ..., plan: _Optional[_Iterable[bytes]] = ..., points: _Optional[_Iterable[_Union[PointSnapshot, _Mapping]]] = ..., moved_jobs: _Optional[bytes] = ..., target_reached: _Optional[_Union[TargetReached, _Mapping]] = ..., proposals: _Optional[_Iterable[_Union[PointProposed, _Mapping]]] = ..., finished_proposals: _Optional[_Iterable[int]] = ...) -> None: ...

class SweepStatus(_message.Message):
    __slots__ = ["best", "cancel_reason", "cancelled", "complete", "constraints", "counts", "counts_by_kind", "front", "jobs", "maximize", "metric", "name", "next_page_token", "objectives", "output_root", "parameter_names", "sweep_file", "sweep_id", "total_jobs"]
    class CountsByKindEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: JobCounts
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[JobCounts, _Mapping]] = ...) -> None: ...
    BEST_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_BY_KIND_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    FRONT_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    MAXIMIZE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_ROOT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_NAMES_FIELD_NUMBER: _ClassVar[int]
    SWEEP_FILE_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_JOBS_FIELD_NUMBER: _ClassVar[int]
    best: Recipe
    cancel_reason: str
    cancelled: bool
    complete: bool
    constraints: _containers.RepeatedCompositeFieldContainer[Constraint]
    counts: JobCounts
    counts_by_kind: _containers.MessageMap[str, JobCounts]
    front: _containers.RepeatedCompositeFieldContainer[Recipe]
    jobs: _containers.RepeatedCompositeFieldContainer[JobStatus]
    maximize: bool
    metric: str
    name: str
    next_page_token: str
    objectives: _containers.RepeatedCompositeFieldContainer[Objective]
    output_root: str
    parameter_names: _containers.RepeatedScalarFieldContainer[str]
    sweep_file: str
    sweep_id: str
    total_jobs: int
    def __init__(self, sweep_id: _Optional[str] = ..., name: _Optional[str] = ..., metric: _Optional[str] = ..., maximize: bool = ..., complete: bool = ..., jobs: _Optional[_Iterable[_Union[JobStatus, _Mapping]]] = ..., cancelled: bool = ..., cancel_reason: _Optional[str] = ..., output_root: _Optional[str] = ..., counts: _Optional[_Union[JobCounts, _Mapping]] = ..., counts_by_kind: _Optional[_Mapping[str, JobCounts]] = ..., best: _Optional[_Union[Recipe, _Mapping]] = ..., total_jobs: _Optional[int] = ..., next_page_token: _Optional[str] = ..., parameter_names: _Optional[_Iterable[str]] = ..., objectives: _Optional[_Iterable[_Union[Objective, _Mapping]]] = ..., constraints: _Optional[_Iterable[_Union[Constraint, _Mapping]]] = ..., front: _Optional[_Iterable[_Union[Recipe, _Mapping]]] = ..., sweep_file: _Optional[str] = ...) -> None: ...

class SweepSubmitted(_message.Message):
    __slots__ = ["sweep"]
    SWEEP_FIELD_NUMBER: _ClassVar[int]
    sweep: SubmitSweep
    def __init__(self, sweep: _Optional[_Union[SubmitSweep, _Mapping]] = ...) -> None: ...

class TargetReached(_message.Message):
    __slots__ = ["mean", "point"]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    mean: float
    point: str
    def __init__(self, point: _Optional[str] = ..., mean: _Optional[float] = ...) -> None: ...

class JobKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
