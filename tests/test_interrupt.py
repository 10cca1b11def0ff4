"""Issue 11: Ctrl-C while NetCDF is written stops within seconds and leaves no file.

Before the fix a SIGINT during a variable write left xarray's (non-reentrant) file lock
held, and the close in xarray's ``finally`` waited for it forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt",
                                reason="needs POSIX signals")

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    import xarray as xr
    from rhizoscale.io.netcdf import write_netcdf
    rng = np.random.default_rng(0)
    # random doubles do not compress: about 2 s of writing on one core
    ds = xr.Dataset({f"v{i}": (("z", "y", "x"), rng.random((200, 200, 200)), {"units": "1"})
                     for i in range(2)})
    print("writing", flush=True)
    write_netcdf(ds, sys.argv[1])
    print("complete", flush=True)
""")


def _parts(folder: Path):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize("delay", [0.0, 0.6])
def test_ctrl_c_during_a_netcdf_write_stops_quickly_and_leaves_no_file(tmp_path, delay):
    target = tmp_path / "fields.nc"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "writing"
        # wait until data go into the temporary file, then interrupt mid-write
        t0 = time.monotonic()
        while not any(p.stat().st_size > 2**20 for p in tmp_path.glob(".*.part")):
            assert time.monotonic() - t0 < 60, "the writer never started writing"
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.01)
        time.sleep(delay)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("the writer hung after Ctrl-C")
        stopped = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "complete" not in out, "the write finished before the signal: make the data bigger"
    assert "KeyboardInterrupt" in err, err
    assert stopped < 5.0, f"{stopped:.1f} s from Ctrl-C to exit"
    assert not target.exists()
    assert _parts(tmp_path) == []


def test_write_blocks_are_whole_chunks_that_cover_the_array():
    from rhizoscale.io.netcdf import _blocks
    shape, chunks = (3, 45, 20, 20), (1, 12, 10, 10)
    seen = np.zeros(shape, int)
    for block in _blocks(shape, chunks, 8, 12 * 10 * 20 * 8):
        seen[block] += 1
        for s, c, n in zip(block, chunks, shape):
            assert s.start % c == 0 and ((s.stop - s.start) % c == 0 or s.stop == n)
        assert seen[block].size * 8 <= 12 * 10 * 20 * 8
    assert np.all(seen == 1)
    # small arrays: one block
    assert list(_blocks((4, 5), (4, 5), 8, 2**20)) == [(slice(0, 4), slice(0, 5))]


def test_deferred_interrupt_delivers_once_at_a_safe_point():
    from rhizoscale.io.netcdf import deferred_interrupt
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt() as check:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)          # the handler only notes it
            reached = True
            check()
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
