"""Batch processing on a real dask.distributed LocalCluster (loopback, 2 workers)."""

import os
import signal

import numpy as np
import pytest

from lambertian.scale.batch import find_captures, process_capture, run_batch
from lambertian.synth.capture import make_capture, write_capture

distributed = pytest.importorskip("distributed")

OUTPUTS = ("normals.npy", "albedo.npy", "normal.png", "albedo.png", "ps.json", "metrics.json")


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    root = tmp_path_factory.mktemp("captures")
    for i in range(6):
        write_capture(root / "line" / f"part{i}", make_capture(size=112, num_lights=16, seed=i))
    broken = root / "line" / "broken"
    write_capture(broken, make_capture(size=32, num_lights=6, seed=9))
    lines = (broken / "light_directions.txt").read_text().splitlines()
    (broken / "light_directions.txt").write_text("\n".join(lines[:-1]) + "\n")
    return root


def test_find_captures_lists_every_capture_folder(captures):
    found = find_captures(captures)
    assert [p.name for p in found] == ["broken"] + [f"part{i}" for i in range(6)]


def test_killed_worker_loses_nothing_and_results_are_identical(captures, tmp_path):
    expected = {}
    for i in range(6):
        row = process_capture(str(captures / "line" / f"part{i}"), str(tmp_path / f"seq{i}"),
                              "ls")
        assert row["status"] == "done"
        expected[f"part{i}"] = np.load(tmp_path / f"seq{i}" / "normals.npy")

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    killed = []

    def kill_one_worker(row):
        if not killed:
            nanny = next(iter(cluster.workers.values()))
            pid = nanny.process.process.pid
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    out = tmp_path / "out"
    try:
        rows = run_batch(captures, out, client=client, progress=False,
                         on_result=kill_one_worker)
    finally:
        client.close()
        cluster.close()
    assert killed, "the test must kill a worker mid-run"
    status = {os.path.basename(r["capture"]): r for r in rows}
    assert status["broken"]["status"] == "failed"
    assert "light" in status["broken"]["error"] and "\n" not in status["broken"]["error"]
    for name, normals in expected.items():
        assert status[name]["status"] == "done", status[name]
        folder = out / "line" / name
        for f in OUTPUTS:
            assert (folder / f).is_file(), f"{folder / f} missing"
        np.testing.assert_array_equal(np.load(folder / "normals.npy"), normals)
    assert not list((out / "line").glob(".*tmp-*")), "temporary folders left behind"
    assert (out / "summary.md").read_text().count("| done |") == 6

    # A rerun skips what is finished and retries only the failure.
    rows = run_batch(captures, out, workers=1, progress=False)
    assert sorted(r["status"] for r in rows) == ["failed"] + ["skipped"] * 6
