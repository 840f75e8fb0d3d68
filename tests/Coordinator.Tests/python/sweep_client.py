#!/usr/bin/env python3
"""An independent client of the orchestrator's Sweeps API, in Python with Debian's grpcio.

Its stubs are generated from the same .proto files as the server's (src/Protocol/protos), with Debian's protoc
and grpc_python_plugin. It submits a sweep, watches it to the end (checking that cursors increase and that the
stream ends with the sweep complete), pages through the results, and prints a JSON summary the test checks.
With --inspect instead of --sweep, it reads a sweep that is there already (a large one) through Get, the Watch
snapshot and every Results page, with gRPC's default limits (4 MiB a message), and reports what it read.

    /usr/bin/python3 sweep_client.py --protos src/Protocol/protos --endpoint 127.0.0.1:50051 --token-file token --sweep sweep.yaml
    /usr/bin/python3 sweep_client.py --protos src/Protocol/protos --endpoint 127.0.0.1:50051 --token-file token --inspect big-sweep
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def generate_stubs(proto_root: str) -> str:
    out = tempfile.mkdtemp(prefix="orchestrator-stubs-")
    files = ["orchestrator/v1/sweeps.proto", "orchestrator/v1/cluster.proto", "orchestrator/v1/trial.proto"]
    subprocess.run(["protoc", f"-I{proto_root}", f"--python_out={out}", f"--grpc_python_out={out}",
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin", *files], check=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--protos", required=True)
    parser.add_argument("--endpoint", required=True, help="host:port of the coordinator's gRPC API")
    parser.add_argument("--token-file", required=True)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--sweep", help="a sweep file to submit, watch to the end and read back")
    what.add_argument("--inspect", help="the id of a sweep to read (Get, Watch snapshot, every Results page)")
    args = parser.parse_args()

    sys.path.insert(0, generate_stubs(args.protos))
    import grpc
    from orchestrator.v1 import cluster_pb2, sweeps_pb2, sweeps_pb2_grpc

    with open(args.token_file) as f:
        metadata = [("authorization", "Bearer " + f.readline().strip())]
    stub = sweeps_pb2_grpc.SweepsStub(grpc.insecure_channel(args.endpoint))
    if args.inspect:
        return inspect(stub, sweeps_pb2, metadata, args.inspect)

    try:
        stub.List(sweeps_pb2.ListRequest(), timeout=30)
        return fail("a call without the token succeeded")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.UNAUTHENTICATED:
            return fail(f"a call without the token gave {error.code()}, not UNAUTHENTICATED")

    with open(args.sweep, "rb") as f:
        submitted = stub.Submit(sweeps_pb2.SubmitRequest(file_name=os.path.abspath(args.sweep), content=f.read()), metadata=metadata, timeout=30)

    cursor, finished, epochs, ended = -1, set(), 0, False
    for event in stub.Watch(sweeps_pb2.WatchRequest(sweep_id=submitted.sweep_id), metadata=metadata, timeout=300):
        if event.cursor < cursor:
            return fail(f"cursor went back from {cursor} to {event.cursor}")
        cursor = event.cursor
        kind = event.WhichOneof("event")
        if kind == "snapshot_jobs":
            finished |= {job.job_id for job in event.snapshot_jobs.jobs if job.state == cluster_pb2.JOB_STATE_DONE}
        elif kind == "job" and event.job.state == cluster_pb2.JOB_STATE_DONE:
            finished.add(event.job.job_id)
        elif kind == "metrics":
            epochs += 1
        elif kind == "sweep" and event.sweep.change == sweeps_pb2.SWEEP_CHANGE_COMPLETE:
            ended = True
            break
    if not ended:
        return fail("the watch stream ended before the sweep completed")

    jobs, token = [], ""
    while True:
        page = stub.Results(sweeps_pb2.ResultsRequest(sweep_id=submitted.sweep_id, page_size=3, page_token=token), metadata=metadata, timeout=30)
        jobs.extend(page.jobs)
        token = page.next_page_token
        if not token:
            break
    print(json.dumps({
        "sweep": submitted.sweep_id,
        "jobs": len(jobs),
        "submitted_jobs": submitted.jobs,
        "done": sorted(job.job_id for job in jobs if job.state == cluster_pb2.JOB_STATE_DONE),
        "watched_done": sorted(finished),
        "epoch_events": epochs,
        "best": dict(page.best.parameters),
        "best_test_accuracy": page.best.test_accuracy_mean,
    }))
    return 0


def inspect(stub, sweeps_pb2, metadata, sweep_id: str) -> int:
    from orchestrator.v1 import cluster_pb2
    largest = 0

    def seen(message):
        nonlocal largest
        largest = max(largest, message.ByteSize())
        return message

    status = seen(stub.Get(sweeps_pb2.GetRequest(sweep_id=sweep_id), metadata=metadata, timeout=60))
    get_pages, token = 1, status.next_page_token
    while token and get_pages < 3:  # a few pages of Get, as a dashboard would page
        token = seen(stub.Get(sweeps_pb2.GetRequest(sweep_id=sweep_id, page_size=1000, page_token=token), metadata=metadata, timeout=60)).next_page_token
        get_pages += 1

    snapshot_jobs, chunks, total = set(), 0, None
    watch = stub.Watch(sweeps_pb2.WatchRequest(sweep_id=sweep_id), metadata=metadata, timeout=300)
    for event in watch:
        seen(event)
        kind = event.WhichOneof("event")
        if kind == "snapshot":
            total = event.snapshot.total_jobs
        elif kind == "snapshot_jobs":
            chunks += 1
            snapshot_jobs |= {job.job_id for job in event.snapshot_jobs.jobs}
            if event.snapshot_jobs.last:
                break
    watch.cancel()

    results, token, pages = 0, "", 0
    done = 0
    while True:
        page = seen(stub.Results(sweeps_pb2.ResultsRequest(sweep_id=sweep_id, page_size=1000, page_token=token), metadata=metadata, timeout=60))
        results += len(page.jobs)
        done += sum(1 for job in page.jobs if job.state == cluster_pb2.JOB_STATE_DONE)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    print(json.dumps({
        "get_total_jobs": status.total_jobs,
        "get_first_page": len(status.jobs),
        "get_done": status.counts.done,
        "snapshot_total_jobs": total,
        "snapshot_jobs": len(snapshot_jobs),
        "snapshot_chunks": chunks,
        "results_jobs": results,
        "results_done": done,
        "results_pages": pages,
        "best": dict(page.best.parameters),
        "largest_message_bytes": largest,
    }))
    return 0


def fail(message: str) -> int:
    print(f"sweep_client: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
