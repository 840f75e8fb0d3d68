"""The coordinator's Sweeps API (orchestrator serve) for notebooks and scripts."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import grpc

from . import events as ev
from . import results as rs
from ._proto.orchestrator.v1 import cluster_pb2, sweeps_pb2, sweeps_pb2_grpc
from .errors import translate

DEFAULT_ENDPOINT = "http://127.0.0.1:50051"
# What the CLI (ApiClient.IsTransient) also treats as a broken connection rather than an answer.
_TRANSIENT = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


def connect(endpoint: Optional[str] = None, token: Optional[str] = None, tls: Optional[bool] = None,
            ca_file: Optional[str] = None, timeout: float = 60.0) -> "Client":
    """A client of the coordinator at endpoint ($ORCHESTRATOR_ENDPOINT, else http://127.0.0.1:50051; host:port works too).

    token: the API's bearer token ($ORCHESTRATOR_TOKEN when None; none needed when the server has none).
    tls: use TLS; by default when the endpoint starts with https://. ca_file: a PEM file to trust (a private CA or a
    self-signed certificate); the system's roots otherwise. timeout: seconds for each call but watch.
    """
    endpoint = endpoint or os.environ.get("ORCHESTRATOR_ENDPOINT") or DEFAULT_ENDPOINT
    token = token if token is not None else os.environ.get("ORCHESTRATOR_TOKEN") or None
    target, https = _target(endpoint)
    if tls if tls is not None else https:
        roots = Path(ca_file).read_bytes() if ca_file else None
        channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=roots))
    else:
        channel = grpc.insecure_channel(target)
    return Client(channel, token, timeout)


def _target(endpoint: str) -> Tuple[str, bool]:
    for scheme, https in (("https://", True), ("http://", False)):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme):].rstrip("/"), https
    if "://" in endpoint:
        raise ValueError(f"endpoint '{endpoint}': use http://host:port, https://host:port or host:port")
    return endpoint, False


class Client:
    """Submit, follow and read sweeps. Every method raises an OrchestratorError subclass (errors.py) when the call fails."""

    def __init__(self, channel: grpc.Channel, token: Optional[str], timeout: float) -> None:
        self._channel = channel
        self._stub = sweeps_pb2_grpc.SweepsStub(channel)
        self._metadata = [("authorization", f"Bearer {token}")] if token else []
        self._timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, metadata=self._metadata, timeout=self._timeout)
        except grpc.RpcError as error:
            raise translate(error) from None

    def submit(self, sweep: Union[str, os.PathLike]) -> sweeps_pb2.SubmitResponse:
        """Plans and starts a sweep from a sweep file's path or its YAML text. Submitting the same sweep again resumes it
        (only what has not finished runs); adding values to a finished grid runs only the new points. The paths inside
        the file are read on the coordinator."""
        text = str(sweep)
        if isinstance(sweep, os.PathLike) or ("\n" not in text and (Path(text).is_file() or Path(text).suffix in (".yaml", ".yml"))):
            path = Path(sweep)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such sweep file (pass a path to a .yaml file, or the YAML text itself)")
            request = sweeps_pb2.SubmitRequest(file_name=str(path.resolve()), content=path.read_bytes())
        else:
            request = sweeps_pb2.SubmitRequest(file_name="<submitted from Python>", content=text.encode("utf-8"))
        return self._call(self._stub.Submit, request)

    def status(self) -> List[sweeps_pb2.SweepSummary]:
        """Every sweep the coordinator holds, with its counts and best metric so far."""
        return list(self._call(self._stub.List, sweeps_pb2.ListRequest()).sweeps)

    def get(self, sweep: str, page_size: int = 100) -> cluster_pb2.SweepStatus:
        """One sweep's state: counts, best point, front, and its first page_size jobs (results() reads them all)."""
        return self._call(self._stub.Get, sweeps_pb2.GetRequest(sweep_id=sweep, page_size=page_size))

    def results(self, sweep: str, dataframe: Optional[bool] = None) -> Any:
        """Every job of the sweep, a row each with the columns of results.csv (parameters, accuracies, gain over the
        student alone, pareto_front, params, macs, bytes, latency, ...), read a page of 1,000 jobs at a time.
        A pandas DataFrame when pandas is installed (dataframe=False: a list of dicts; True: pandas or ImportError)."""
        rows: List[Dict[str, Any]] = []
        token, first = "", None
        while True:
            page = self._call(self._stub.Results, sweeps_pb2.ResultsRequest(sweep_id=sweep, page_size=1000, page_token=token))
            if first is None:
                first, names, front = page, list(page.parameter_names), rs.front_keys(page)
            rows.extend(rs.row(job, names, front) for job in page.jobs)
            token = page.next_page_token
            if not token:
                break
        rs.add_gains(rows)
        if dataframe is False:
            return rows
        try:
            import pandas
        except ImportError:
            if dataframe:
                raise
            return rows
        return pandas.DataFrame.from_records(rows, columns=rs.columns(names))

    def report(self, sweep: str, path: Optional[Union[str, os.PathLike]] = None) -> str:
        """The sweep's report.html (charts, learning curves, every point), rendered now; also written to path if given."""
        html: str = self._call(self._stub.Report, sweeps_pb2.ReportRequest(sweep_id=sweep)).html
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def cancel(self, sweep: str, reason: str = "") -> sweeps_pb2.CancelResponse:
        """Stops a sweep: queued jobs are cancelled, running ones stop after their batch keeping their checkpoint."""
        return self._call(self._stub.Cancel, sweeps_pb2.CancelRequest(sweep_id=sweep, reason=reason))

    def retry(self, sweep: str, failed: bool = False) -> sweeps_pb2.RetryResponse:
        """Runs the trials the machine failed (disk, I/O, memory) again; failed=True: every failed trial."""
        return self._call(self._stub.Retry, sweeps_pb2.RetryRequest(sweep_id=sweep, failed=failed))

    def watch(self, sweep: Optional[str] = None, after: int = 0, until_finished: bool = True,
              reconnect_seconds: float = 60.0) -> "Watch":
        """The sweep's events as they happen (every sweep's when sweep is None), as typed objects (events.py).

        after=0 starts with a snapshot (Snapshot, then its jobs in SnapshotJobs); after=cursor continues exactly after
        that event. A dropped connection is resumed after the last cursor received, nothing lost or repeated, for up to
        reconnect_seconds without an event. With until_finished, the iteration ends when the sweep completes or is
        cancelled. The returned Watch's .cursor is the last cursor received: keep it to continue later."""
        return Watch(self, sweep, after, until_finished and sweep is not None, reconnect_seconds)


class Watch(Iterator[ev.WatchEvent]):
    """Iterates a Watch stream, reconnecting after its last cursor; .cursor is where a later watch(after=...) continues."""

    def __init__(self, client: Client, sweep: Optional[str], after: int, until_finished: bool, reconnect_seconds: float) -> None:
        self.cursor = after
        self.reconnects = 0
        self._events = self._run(client, sweep, until_finished, reconnect_seconds)
        self._call: Optional[Any] = None

    def __next__(self) -> ev.WatchEvent:
        return next(self._events)

    def close(self) -> None:
        """Stops watching (the stream is cancelled on the server)."""
        if self._call is not None:
            self._call.cancel()
        self._events.close()

    def _run(self, client: Client, sweep: Optional[str], until_finished: bool, reconnect_seconds: float) -> Iterator[ev.WatchEvent]:
        finished_in_snapshot = False
        broken_since: Optional[float] = None
        delay = 0.1
        while True:
            request = sweeps_pb2.WatchRequest(sweep_id=sweep or "", after_cursor=self.cursor)
            self._call = client._stub.Watch(request, metadata=client._metadata)
            try:
                for message in self._call:
                    broken_since, delay = None, 0.1
                    self.cursor = message.cursor
                    event = ev.from_message(message)
                    if event is None:
                        continue
                    yield event
                    if isinstance(event, ev.Snapshot) and event.sweep == sweep:
                        finished_in_snapshot = event.complete or event.cancelled
                    if not until_finished:
                        continue
                    if isinstance(event, ev.SnapshotJobs) and event.last and finished_in_snapshot and event.sweep == sweep:
                        return
                    if isinstance(event, ev.SweepChanged) and event.sweep == sweep and event.change in ("complete", "cancelled"):
                        return
                return  # the server ended the stream
            except grpc.RpcError as error:
                if error.code() not in _TRANSIENT:  # type: ignore[attr-defined]
                    raise translate(error) from None
                broken_since = broken_since or time.monotonic()
                if time.monotonic() - broken_since > reconnect_seconds:
                    raise translate(error) from None
                self.reconnects += 1
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                self._call.cancel()
