from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
TRIAL_STATUS_CANCELLED: TrialStatus
TRIAL_STATUS_COMPLETED: TrialStatus
TRIAL_STATUS_EARLY_STOPPED: TrialStatus
TRIAL_STATUS_FAILED: TrialStatus
TRIAL_STATUS_STOPPED: TrialStatus
TRIAL_STATUS_UNSPECIFIED: TrialStatus

class EpochMetrics(_message.Message):
    __slots__ = ["epoch", "learning_rate", "loss_terms", "samples_per_second", "seconds", "step_seconds", "train_accuracy", "train_loss", "validation_accuracy", "validation_loss"]
    class LossTermsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    LOSS_TERMS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    STEP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    TRAIN_LOSS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_LOSS_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    learning_rate: float
    loss_terms: _containers.ScalarMap[str, float]
    samples_per_second: float
    seconds: float
    step_seconds: float
    train_accuracy: float
    train_loss: float
    validation_accuracy: float
    validation_loss: float
    def __init__(self, epoch: _Optional[int] = ..., learning_rate: _Optional[float] = ..., train_loss: _Optional[float] = ..., loss_terms: _Optional[_Mapping[str, float]] = ..., train_accuracy: _Optional[float] = ..., validation_loss: _Optional[float] = ..., validation_accuracy: _Optional[float] = ..., samples_per_second: _Optional[float] = ..., seconds: _Optional[float] = ..., step_seconds: _Optional[float] = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ["attempt", "epochs", "job_id", "metrics", "node", "slot", "sweep_id"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    epochs: int
    job_id: str
    metrics: EpochMetrics
    node: str
    slot: int
    sweep_id: str
    def __init__(self, sweep_id: _Optional[str] = ..., job_id: _Optional[str] = ..., node: _Optional[str] = ..., slot: _Optional[int] = ..., epochs: _Optional[int] = ..., metrics: _Optional[_Union[EpochMetrics, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...

class ModelCost(_message.Message):
    __slots__ = ["bytes_float16", "bytes_float32", "device", "latency_ms_batch1", "latency_ms_batch256", "latency_runs_batch1", "latency_runs_batch256", "multiply_accumulates"]
    BYTES_FLOAT16_FIELD_NUMBER: _ClassVar[int]
    BYTES_FLOAT32_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_BATCH1_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_BATCH256_FIELD_NUMBER: _ClassVar[int]
    LATENCY_RUNS_BATCH1_FIELD_NUMBER: _ClassVar[int]
    LATENCY_RUNS_BATCH256_FIELD_NUMBER: _ClassVar[int]
    MULTIPLY_ACCUMULATES_FIELD_NUMBER: _ClassVar[int]
    bytes_float16: int
    bytes_float32: int
    device: str
    latency_ms_batch1: float
    latency_ms_batch256: float
    latency_runs_batch1: int
    latency_runs_batch256: int
    multiply_accumulates: int
    def __init__(self, multiply_accumulates: _Optional[int] = ..., bytes_float32: _Optional[int] = ..., bytes_float16: _Optional[int] = ..., latency_ms_batch1: _Optional[float] = ..., latency_runs_batch1: _Optional[int] = ..., latency_ms_batch256: _Optional[float] = ..., latency_runs_batch256: _Optional[int] = ..., device: _Optional[str] = ...) -> None: ...

class TeacherAccuracy(_message.Message):
    __slots__ = ["checkpoint", "parameters", "sha256", "test_accuracy", "validation_accuracy"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    TEST_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    checkpoint: str
    parameters: int
    sha256: str
    test_accuracy: float
    validation_accuracy: float
    def __init__(self, checkpoint: _Optional[str] = ..., sha256: _Optional[str] = ..., parameters: _Optional[int] = ..., validation_accuracy: _Optional[float] = ..., test_accuracy: _Optional[float] = ...) -> None: ...

class TrialSummary(_message.Message):
    __slots__ = ["best_checkpoint", "best_epoch", "best_validation_accuracy", "best_validation_loss", "configuration_hash", "cost", "crashed", "dataset_fingerprint", "device", "environmental", "epochs_run", "failure_reason", "finished_at", "model", "name", "notes", "pack", "parameters", "seconds", "soft_targets", "soft_targets_cached", "status", "stop_reason", "teacher_parameters", "teacher_test_accuracy", "teachers", "test_accuracy"]
    BEST_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    BEST_EPOCH_FIELD_NUMBER: _ClassVar[int]
    BEST_VALIDATION_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    BEST_VALIDATION_LOSS_FIELD_NUMBER: _ClassVar[int]
    CONFIGURATION_HASH_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    CRASHED_FIELD_NUMBER: _ClassVar[int]
    DATASET_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENTAL_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_RUN_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    PACK_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    SOFT_TARGETS_CACHED_FIELD_NUMBER: _ClassVar[int]
    SOFT_TARGETS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STOP_REASON_FIELD_NUMBER: _ClassVar[int]
    TEACHERS_FIELD_NUMBER: _ClassVar[int]
    TEACHER_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    TEACHER_TEST_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    TEST_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    best_checkpoint: str
    best_epoch: int
    best_validation_accuracy: float
    best_validation_loss: float
    configuration_hash: str
    cost: ModelCost
    crashed: bool
    dataset_fingerprint: str
    device: str
    environmental: bool
    epochs_run: int
    failure_reason: str
    finished_at: _timestamp_pb2.Timestamp
    model: str
    name: str
    notes: _containers.RepeatedScalarFieldContainer[str]
    pack: str
    parameters: int
    seconds: float
    soft_targets: str
    soft_targets_cached: bool
    status: TrialStatus
    stop_reason: str
    teacher_parameters: int
    teacher_test_accuracy: float
    teachers: _containers.RepeatedCompositeFieldContainer[TeacherAccuracy]
    test_accuracy: float
    def __init__(self, name: _Optional[str] = ..., status: _Optional[_Union[TrialStatus, str]] = ..., failure_reason: _Optional[str] = ..., epochs_run: _Optional[int] = ..., best_epoch: _Optional[int] = ..., best_validation_accuracy: _Optional[float] = ..., test_accuracy: _Optional[float] = ..., model: _Optional[str] = ..., parameters: _Optional[int] = ..., teacher_test_accuracy: _Optional[float] = ..., teacher_parameters: _Optional[int] = ..., device: _Optional[str] = ..., configuration_hash: _Optional[str] = ..., dataset_fingerprint: _Optional[str] = ..., seconds: _Optional[float] = ..., best_checkpoint: _Optional[str] = ..., best_validation_loss: _Optional[float] = ..., soft_targets: _Optional[str] = ..., soft_targets_cached: bool = ..., teachers: _Optional[_Iterable[_Union[TeacherAccuracy, _Mapping]]] = ..., notes: _Optional[_Iterable[str]] = ..., crashed: bool = ..., environmental: bool = ..., stop_reason: _Optional[str] = ..., finished_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., pack: _Optional[str] = ..., cost: _Optional[_Union[ModelCost, _Mapping]] = ...) -> None: ...

class TrialStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
