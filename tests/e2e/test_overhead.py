"""Ward's own overhead histogram (`ward_overhead_seconds`) against what an external load
generator (`hey`, Debian package) measures on the same calls: the mean through Ward minus the mean
straight to the same loopback upstream (bench/overhead.py does the measuring).

A call runs from the kernel's receive time of its first bytes until its answer is handed to the
connection, and a remote upstream's time is taken at the socket, so the histogram should agree
with the external figure; what it cannot see (the answer's write itself) is small. The upstream
thinks 2 ms before each answer, as a model would, so that neither path catches it idle.
"""

import os
import shutil
import sys

import pytest

from conftest import ROOT, WARD_BIN

sys.path.insert(0, str(ROOT / "bench"))
import overhead  # noqa: E402

# How far below the external figure the histogram may read (ms; 0.02-0.15 on a 2-core release
# build), and how far above. Loose on purpose: CI's two cores are shared.
UNSEEN_MS = 1.0
NOISE_MS = 0.5


def test_the_overhead_histogram_agrees_with_an_external_load_generator():
    if not shutil.which("hey"):
        if os.environ.get("CI"):
            pytest.fail("CI must compare overhead with an external load generator: apt install hey")
        pytest.skip("hey is not installed (apt install hey)")
    os.environ.setdefault("WARD_BIN", WARD_BIN)
    run = overhead.measure(requests=600, concurrency=1, upstream_ms=2)
    external, own = run["external_overhead_mean_ms"], run["ward_overhead_mean_ms"]
    assert own > 0, run
    assert -NOISE_MS <= external - own <= UNSEEN_MS, run
