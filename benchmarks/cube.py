"""Benchmark: a large synthetic XANES map through the lazy dask chain.

Run as a script (in its own process, so that its peak memory is its own)::

    python benchmarks/cube.py --ny 1000 --nx 1000 --workers 2 --json

The map is generated chunk by chunk inside the dask graph (it never exists
whole in memory): per pixel an arctan edge of width ``GAMMA`` at ``c``
varying smoothly across the map, a pre-edge Gaussian, a sloped background
and white noise, on a 200-point grid that is fine (0.4 eV) through the
edge and coarse (2 eV) outside, as a diamond-anvil-cell scan. Each chunk
goes through :func:`spectro.batch.cube.analyze_cube` (the XANES analysis of
:func:`spectro.xanes.analyze` with the model-free pre-edge centroid) and
:func:`spectro.batch.cube.write_cube_results` writes the results to a
NetCDF file in a temporary folder, as ``spectro batch --cube`` does; with
``--in-memory`` they are gathered into memory (``.compute()``) instead,
which holds them twice while gathering. The time (wall clock, and the CPU
time of all threads, ``cube_cpu_seconds``, which depends less on what else
runs on the machine) and the peak memory are the whole run's. Without the
white line the true E0 is ``c + GAMMA * tan(0.3 pi)``, which checks the
results.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import xarray as xr

from spectro.batch.cube import CHUNK_BYTES, analyze_cube, chunk_sizes, write_cube_results

GAMMA = 1.5  # eV, arctan half width
NOISE = 0.002
EDGE_MIN, EDGE_SPAN = 8338.0, 4.0  # eV: edge centre from EDGE_MIN to EDGE_MIN + EDGE_SPAN


def energy_grid() -> np.ndarray:
    """200 points, eV: 2 eV steps to 8320, 0.4 eV steps to 8370, 2 eV steps to 8450."""
    return np.concatenate(
        [np.arange(8250.0, 8320.0, 2.0), np.arange(8320.0, 8370.0, 0.4), np.arange(8370.0, 8450.0, 2.0)]
    )


def edge_centre(y: np.ndarray, x: np.ndarray, ny: int, nx: int) -> np.ndarray:
    """Edge centre c (eV) of the pixels (y, x)."""
    return EDGE_MIN + EDGE_SPAN * (0.5 * y / max(ny - 1, 1) + 0.5 * x / max(nx - 1, 1))


def _block(block_info=None, *, energy, ny, nx):
    info = block_info[None]
    (y0, y1), (x0, x1), _ = info["array-location"]
    y, x = np.meshgrid(np.arange(y0, y1), np.arange(x0, x1), indexing="ij")
    c = edge_centre(y, x, ny, nx)[..., None]
    rng = np.random.default_rng([y0, x0])
    mu = 0.3 + 2e-4 * (energy - 8250.0) + 1.8 * (0.5 + np.arctan((energy - c) / GAMMA) / np.pi)
    mu += 0.06 * np.exp(-0.5 * ((energy - 8333.0) / 1.0) ** 2)
    return mu + rng.normal(0.0, NOISE, mu.shape)


def synthetic_cube(ny: int, nx: int, *, chunk_bytes: int = CHUNK_BYTES) -> xr.DataArray:
    """The lazy (y, x, energy) map described in the module docstring."""
    energy = energy_grid()
    chunks = chunk_sizes((ny, nx, energy.size), chunk_bytes=chunk_bytes)
    lazy = da.map_blocks(
        _block,
        chunks=da.core.normalize_chunks(chunks, (ny, nx, energy.size)),
        dtype=float,
        energy=energy,
        ny=ny,
        nx=nx,
        meta=np.array((), dtype=float),
    )
    return xr.DataArray(lazy, dims=("y", "x", "energy"), coords={"energy": energy})


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MB.

    On Linux ``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` also counts
    the process this one was forked from before ``exec`` (a benchmark run
    from a big parent would report the parent's size).
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(ny: int, nx: int, workers: int, *, in_memory: bool = False) -> dict[str, float]:
    """Time and peak memory of the chain over an ny x nx map on ``workers`` threads."""
    cube = synthetic_cube(ny, nx)
    with tempfile.TemporaryDirectory() as folder:
        start, cpu = time.perf_counter(), time.process_time()
        with dask.config.set(scheduler="threads", num_workers=workers):
            if in_memory:
                e0 = analyze_cube(cube).compute().e0.values
            else:
                target = write_cube_results(analyze_cube(cube), Path(folder) / "map.results.nc")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        if not in_memory:
            with xr.open_dataset(target, engine="h5netcdf") as written:
                e0 = written.e0.values
    y, x = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    true_e0 = edge_centre(y, x, ny, nx) + GAMMA * np.tan(0.3 * np.pi)
    n = ny * nx
    return {
        "cube_spectra": n,
        "cube_points": int(cube.sizes["energy"]),
        "cube_workers": workers,
        "cube_seconds": seconds,
        "cube_spectra_per_s": n / seconds,
        "cube_cpu_seconds": cpu,
        "cube_peak_rss_mb": peak_rss_mb(),
        "cube_median_abs_e0_err_ev": float(np.nanmedian(np.abs(e0 - true_e0))),
        "cube_nan_e0_fraction": float(np.mean(np.isnan(e0))),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ny", type=int, default=1000)
    parser.add_argument("--nx", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--in-memory", action="store_true", help="gather the results into memory, write no file")
    args = parser.parse_args(argv)
    result = measure(args.ny, args.nx, args.workers, in_memory=args.in_memory)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
