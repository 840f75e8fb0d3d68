"""Python client of the Orchestrator coordinator (orchestrator serve): submit distillation sweeps, watch them live,
read their results as a pandas DataFrame.

    import orchestrator_client as oc
    client = oc.connect("http://127.0.0.1:50051", token=open("token").read().strip())
    sweep = client.submit("examples/sweeps/fmnist-kd.yaml").sweep_id
    for event in client.watch(sweep):
        if isinstance(event, oc.JobChanged) and event.state == "done":
            print(event.job, event.summary.test_accuracy)
    df = client.results(sweep)
"""
from .client import DEFAULT_ENDPOINT, Client, Watch, connect
from .errors import InvalidSweep, NotFound, OrchestratorError, PermissionDenied, Unavailable
from .events import EpochFinished, Event, FellBehind, JobChanged, NodeChanged, Snapshot, SnapshotJobs, SweepChanged, WatchEvent

__all__ = [
    "DEFAULT_ENDPOINT", "Client", "Watch", "connect",
    "InvalidSweep", "NotFound", "OrchestratorError", "PermissionDenied", "Unavailable",
    "EpochFinished", "Event", "FellBehind", "JobChanged", "NodeChanged", "Snapshot", "SnapshotJobs", "SweepChanged", "WatchEvent",
]
