#!/usr/bin/env python3
"""Drives the orchestrator_client package (clients/python, pip-installed into a venv by the test) against a real
coordinator and prints a JSON summary that the C# test checks.

    client_checks.py workflow --endpoint 127.0.0.1:50051 --token-file token --sweep sweep.yaml
        Refused without the token; submit; watch through a loopback proxy that drops every connection once a job has
        finished (the watch must resume after its last cursor); results as a DataFrame, compared with the
        coordinator's results.csv; report; status; get.
    client_checks.py read --endpoint 127.0.0.1:50051 --token-file token --sweep-id large
        A large sweep's snapshot through watch, and its results into a DataFrame, with gRPC's default 4 MiB limit.
    client_checks.py watchers --endpoint 127.0.0.1:50051 --token-file token --count 300 --sweep sweep.yaml
        That many streams watching every sweep from one client (one HTTP/2 connection), then the sweep submitted: how
        many received an event.
"""
import argparse
import json
import socket
import sys
import threading
import time
from pathlib import Path

import orchestrator_client as oc


class DroppingProxy:
    """Forwards loopback TCP connections to the coordinator; drop() closes every open one, as a broken network would."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.open, self.lock, self.drops = [], threading.Lock(), 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop(self) -> None:
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.open, self.drops = [], self.drops + 1


def workflow(endpoint: str, token: str, sweep_file: str) -> dict:
    try:
        oc.connect(endpoint).status()
        raise SystemExit("a call without the token succeeded")
    except oc.PermissionDenied:
        pass
    proxy = DroppingProxy(endpoint)
    client = oc.connect(proxy.address, token=token)
    submitted = client.submit(sweep_file)
    watch = client.watch(submitted.sweep_id)
    cursors, done, epochs, kinds, last = [], set(), 0, set(), None
    for event in watch:
        if not isinstance(event, (oc.Snapshot, oc.SnapshotJobs)):  # a snapshot's events share one cursor
            cursors.append(event.cursor)
        kinds.add(type(event).__name__)
        if isinstance(event, oc.JobChanged) and event.state == "done":
            done.add(event.job)
            if proxy.drops == 0:
                proxy.drop()
        elif isinstance(event, oc.EpochFinished):
            epochs += 1
        last = event
    results = client.results(submitted.sweep_id)
    csv = Path(submitted.output_directory) / "results.csv"
    for _ in range(300):  # the coordinator writes results.csv as the sweep completes
        if csv.exists():
            break
        time.sleep(0.1)
    import pandas
    written = pandas.read_csv(csv, keep_default_na=False, dtype=str)
    ours = pandas.read_csv(__import__("io").StringIO(results.to_csv(index=False)), keep_default_na=False, dtype=str)
    # results.csv writes True/False for pareto_front and numbers in .NET's round-trip form: compare as numbers where both parse.
    mismatches = [f"{c} row {i}: results.csv '{a}', client '{b}'" for c in written.columns for i, (a, b) in enumerate(zip(written[c], ours[c]))
                  if a != b and not _same_number(a, b)]
    html = client.report(submitted.sweep_id)
    listed = [s.sweep_id for s in client.status()]
    got = client.get(submitted.sweep_id)
    return {
        "sweep": submitted.sweep_id,
        "submitted_jobs": submitted.jobs,
        "cursors_increase": all(b > a for a, b in zip(cursors, cursors[1:])),
        "reconnects": watch.reconnects,
        "drops": proxy.drops,
        "watched_done": sorted(done),
        "last_event": type(last).__name__,
        "epoch_events": epochs,
        "event_kinds": sorted(kinds),
        "dataframe_type": type(results).__module__ + "." + type(results).__name__,
        "columns": list(results.columns),
        "csv_columns": list(written.columns),
        "mismatches": mismatches[:10],
        "done": sorted(results.loc[results["state"] == "done", "job"]),
        "report_has_html": html.lstrip().lower().startswith("<!doctype html"),
        "listed": submitted.sweep_id in listed,
        "get_total_jobs": got.total_jobs,
    }


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a.lower() == b.lower()  # True / true


def read(endpoint: str, token: str, sweep: str) -> dict:
    client = oc.connect(endpoint, token=token)
    snapshot_jobs, chunks, total = 0, 0, None
    watch = client.watch(sweep, until_finished=False)
    for event in watch:
        if isinstance(event, oc.Snapshot):
            total = event.message.total_jobs
        elif isinstance(event, oc.SnapshotJobs):
            chunks += 1
            snapshot_jobs += len(event.jobs)
            if event.last:
                break
    watch.close()
    started = time.monotonic()
    frame = client.results(sweep)
    seconds = time.monotonic() - started
    best = frame.loc[frame["best_val_accuracy"].idxmax()]
    return {
        "snapshot_total_jobs": total, "snapshot_jobs": snapshot_jobs, "snapshot_chunks": chunks,
        "rows": len(frame), "done": int((frame["state"] == "done").sum()), "columns": list(frame.columns),
        "best_point": best["point"], "dataframe_seconds": round(seconds, 2),
    }


def watchers(endpoint: str, token: str, count: int, sweep_file: str) -> dict:
    """count streams watching every sweep, open at once on one client (one HTTP/2 connection), then a sweep submitted:
    how many receive an event (its submission, or a snapshot)."""
    client = oc.connect(endpoint, token=token)
    received = [threading.Event() for _ in range(count)]
    release = threading.Event()

    def follow(i: int) -> None:
        watch = client.watch(None, until_finished=False)
        for _ in watch:
            received[i].set()
            release.wait(120)  # stays open while the others start
            break
        watch.close()

    threads = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    time.sleep(5)  # every stream asked for
    oc.connect(endpoint, token=token).submit(sweep_file)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(e.is_set() for e in received):
        time.sleep(0.2)
    got = sum(e.is_set() for e in received)
    release.set()
    client.close()  # cancels the streams still waiting for the server to take them
    for t in threads:
        t.join(max(0.0, deadline + 30 - time.monotonic()))
    return {"watchers": count, "received": got}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["workflow", "read", "watchers"])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--sweep")
    parser.add_argument("--sweep-id")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    token = Path(args.token_file).read_text().splitlines()[0].strip()
    summary = (workflow(args.endpoint, token, args.sweep) if args.mode == "workflow"
               else read(args.endpoint, token, args.sweep_id) if args.mode == "read"
               else watchers(args.endpoint, token, args.count, args.sweep))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
