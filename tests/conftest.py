"""Suite-wide settings.

Kernels, nbgrader runs and sandboxes started by the tests inherit this environment. One
BLAS thread per process: the suite runs many small-matrix processes side by side on two
cores, where multi-threaded BLAS only adds contention (measured 4-9x slower under load).
"""
import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
