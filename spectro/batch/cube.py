"""Large XANES maps ``(y, x, energy)`` processed lazily in chunks with dask.

A map of a million spectra does not fit in memory as float64 several times
over, so :func:`analyze_cube` never loads it: the array is chunked along
its spatial dimensions with the whole energy axis in each chunk, and each
chunk goes through the XANES kernel of :func:`spectro.xanes.analyze` via
:func:`xarray.apply_ufunc` with ``dask="parallelized"``. The result is a
small lazy Dataset of per-pixel numbers; computing it streams the chunks
through the workers, so peak memory is a few chunks per worker.

:func:`open_cube` opens a map lazily from NetCDF-4/HDF5 (h5netcdf), Zarr,
or a plain HDF5 file (datasets for the signal and the energy axis, opened
through h5netcdf so that the lazy array can be sent to worker processes).
Uncertainties are those of the kernels (see :mod:`spectro.xanes`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ColumnError, DataError, FormatError, MissingFileError
from ..options import XanesOptions, options_of

__all__ = [
    "CHUNK_BYTES",
    "CUBE_OPTIONS",
    "analyze_cube",
    "chunk_sizes",
    "open_cube",
    "write_cube_results",
]

#: Default target size of the input of one dask task (bytes): 8 MiB, i.e.
#: about 5000 spectra of 200 float64 points. Each result of a map is one
#: dask array, so a chunk costs one task per result (26) besides the
#: kernel's: on a million spectra, chunks of 2 MiB made 27 000 tasks, whose
#: scheduling took about 5 s of the calling process's time (see
#: docs/performance.md).
CHUNK_BYTES = 8 * 2**20

def chunk_sizes(shape: Sequence[int], itemsize: int = 8, *, chunk_bytes: int = CHUNK_BYTES) -> tuple[int, ...]:
    """Chunk shape for an array (..., energy): whole energy axis, spatial dims split.

    The last spatial dimension is kept whole when it fits, and the earlier
    ones are split so that one chunk holds about ``chunk_bytes``.

    Examples
    --------
    >>> chunk_sizes((1000, 1000, 200))
    (5, 1000, 200)
    >>> chunk_sizes((10, 10, 200))
    (10, 10, 200)
    """
    *space, n_energy = (int(s) for s in shape)
    budget = max(1, chunk_bytes // max(1, n_energy * itemsize))
    chunks = []
    for size in reversed(space):
        take = max(1, min(size, budget))
        chunks.append(take)
        budget = max(1, budget // take)
    return tuple(reversed(chunks)) + (n_energy,)


#: The options of :func:`analyze_cube` unless given: the defaults with the
#: model-free pre-edge centroid (one lmfit fit per spectrum would take hours
#: on a map of a million spectra).
CUBE_OPTIONS = XanesOptions(preedge="centroid")


def analyze_cube(
    data: xr.DataArray,
    options: XanesOptions | None = None,
    /,
    *,
    energy_dim: str = "energy",
    chunk_bytes: int = CHUNK_BYTES,
    **changes: Any,
) -> xr.Dataset:
    """Per-spectrum XANES results of a large map, lazily, chunk by chunk.

    The map is chunked along its spatial dimensions with the whole energy
    axis in each chunk and goes through :func:`spectro.xanes.analyze` (the
    same kernel as every other way of analysing spectra, each chunk in
    calls of at most :data:`spectro.xanes.CALL_BYTES` of input). Each
    spectrum's numbers depend on its own row only, so they are those of
    ``analyze`` on the same spectra, to the bit, whatever the chunks.

    Parameters
    ----------
    data : xarray.DataArray
        mu with dims (..., ``energy_dim``), e.g. (y, x, energy), NumPy- or
        dask-backed; energies in eV as the ``energy_dim`` coordinate,
        strictly increasing.
    options : XanesOptions, optional
        Default :data:`CUBE_OPTIONS`.
    energy_dim : str, default "energy"
    chunk_bytes : int
        Target bytes of input per chunk, i.e. per dask task
        (:func:`chunk_sizes`); the energy axis is never split.
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset
        Dask-backed, every per-spectrum result of :func:`spectro.xanes.analyze`
        (``e0``, ``e0_err``, ``edge_step``, ``preedge_centroid``, ...,
        ``flags``) with the spatial dims of ``data``; the normalized spectra
        are left out. Call :func:`write_cube_results` (chunk by chunk into
        a file) or ``.compute()`` (into memory, which holds the results twice
        while gathering them) to run it on the current dask scheduler
        (threads, or a distributed Client if one is active). The options
        are in attrs. With the option ``budget``, the Dataset of
        ``analyze`` with the budget.

    Raises
    ------
    DataError
        No energy dimension, or energies not strictly increasing.

    Examples
    --------
    >>> import spectro
    >>> sim = spectro.simulate.xanes(n_scans=6, seed=0)
    >>> cube = sim.mu.rename(scan="x").expand_dims(y=2)
    >>> res = analyze_cube(cube).compute()
    >>> res.e0.dims, bool(abs(res.e0[0, 0] - sim.true_e0[0]) < 0.05)
    (('y', 'x'), True)
    """
    from ..xanes import analyze

    opts = options_of(XanesOptions, options if options is not None else CUBE_OPTIONS, changes)
    if energy_dim not in data.dims:
        raise DataError(f"the map has no {energy_dim!r} dimension; its dims are {data.dims}")
    energy = np.asarray(data[energy_dim].values, dtype=float)
    if energy.size < 2 or not np.all(np.diff(energy) > 0):
        raise DataError(f"{energy_dim!r} must be strictly increasing with at least 2 points")
    data = data.transpose(..., energy_dim).rename({energy_dim: "energy"})
    itemsize = np.dtype(data.dtype).itemsize
    sizes = chunk_sizes(data.shape, itemsize, chunk_bytes=chunk_bytes)
    ds = xr.Dataset({"mu": data.chunk(dict(zip(data.dims, sizes)))})
    return analyze(ds, opts, spectra=False).drop_vars("energy", errors="ignore")


def open_cube(
    path: str | os.PathLike,
    *,
    variable: str = "mu",
    energy: str = "energy",
    dims: Sequence[str] = ("y", "x", "energy"),
) -> xr.DataArray:
    """Open a map lazily (nothing is read until computed).

    Parameters
    ----------
    path : str or path-like
        Zarr store (folder or ``.zarr``), NetCDF-4/HDF5 with named
        dimensions (h5netcdf), or a plain HDF5 file.
    variable : str, default "mu"
        The signal: a variable name, or a dataset path in a plain HDF5 file
        (any name with a ``/``, e.g. ``/entry/data/mu``).
    energy : str, default "energy"
        The energy coordinate (eV): a dimension name, or with an HDF5
        dataset path for ``variable``, the path of the 1-D energy dataset.
    dims : sequence of str
        Dimension names for a plain HDF5 dataset; the last is the energy dim.

    Returns
    -------
    xarray.DataArray
        Dask-backed, with the energy axis last and whole in each chunk.

    Raises
    ------
    MissingFileError, FormatError, ColumnError

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, xarray as xr
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "map.nc"
    >>> xr.Dataset({"mu": (("y", "x", "energy"), np.zeros((2, 3, 5)))},
    ...            coords={"energy": np.arange(5.0)}).to_netcdf(p, engine="h5netcdf")
    >>> cube = open_cube(p)
    >>> cube.dims, cube.chunks is not None
    (('y', 'x', 'energy'), True)
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError("no such file or folder", file=path)
    if path.is_dir() or path.suffix == ".zarr":
        ds = xr.open_zarr(path)
    elif "/" in variable:
        return _open_hdf5(path, variable, energy, dims)
    else:
        try:
            ds = xr.open_dataset(path, engine="h5netcdf", chunks={})
        except (OSError, ValueError) as err:
            raise FormatError(f"not a NetCDF-4/HDF5 file: {err}", file=path) from err
    if variable not in ds.data_vars:
        raise ColumnError(f"no variable {variable!r}; available: {sorted(ds.data_vars)}", file=path)
    da = ds[variable]
    if energy not in da.dims:
        raise ColumnError(f"{variable!r} has no {energy!r} dimension; its dims are {da.dims}", file=path)
    da = da.transpose(..., energy)
    return da.chunk(dict(zip(da.dims, chunk_sizes(da.shape, da.dtype.itemsize))))


def _open_hdf5(path: Path, variable: str, energy: str, dims: Sequence[str]) -> xr.DataArray:
    """A plain HDF5 dataset through h5netcdf's phony dimensions (picklable, so it runs on a cluster)."""
    import h5py

    with h5py.File(path, "r") as fh:
        for name in (variable, energy):
            if name not in fh:
                raise ColumnError(f"no HDF5 dataset {name!r}", file=path)
        shape = fh[variable].shape
        axis = np.asarray(fh[energy][()], dtype=float)
    if len(shape) != len(dims):
        raise ColumnError(f"{variable!r} has {len(shape)} dimensions, expected {len(dims)} ({tuple(dims)})", file=path)
    if axis.shape != (shape[-1],):
        raise ColumnError(f"{energy!r} has shape {axis.shape}, expected ({shape[-1]},)", file=path)
    group, _, name = variable.rstrip("/").rpartition("/")
    ds = xr.open_dataset(path, engine="h5netcdf", group=group or "/", phony_dims="access", chunks={})
    da = ds[name]
    da = da.rename(dict(zip(da.dims, dims))).assign_coords({dims[-1]: axis})
    return da.chunk(dict(zip(da.dims, chunk_sizes(da.shape, da.dtype.itemsize))))


def write_cube_results(
    results: xr.Dataset,
    target: str | os.PathLike,
    *,
    source: str | os.PathLike | None = None,
    progress: bool = False,
) -> Path:
    """Compute lazy cube results and write them atomically to NetCDF, chunk by chunk.

    Computing happens on the active dask scheduler. On the local ones
    (threads, synchronous) each chunk's results are written to the file as
    soon as they are computed, so the map's results are never whole in
    memory; with a distributed Client they are gathered in this process and
    then written (the workers need not see the file). Provenance goes to
    attrs: ``source``, ``source_sha256`` (for a single file), ``created``
    and library versions.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, xarray as xr
    >>> res = xr.Dataset({"e0": (("y", "x"), np.full((2, 2), 8345.0))})
    >>> p = write_cube_results(res, pathlib.Path(tempfile.mkdtemp()) / "r.nc")
    >>> float(xr.open_dataset(p, engine="h5netcdf").e0.max())
    8345.0
    """
    import contextlib

    from .outputs import write_netcdf
    from .provenance import environment, file_sha256, utc_now

    attrs = dict(results.attrs, created=utc_now(), **environment())
    if source is not None:
        attrs["source"] = os.fspath(source)
        if Path(source).is_file():
            attrs["source_sha256"] = file_sha256(source)
    local = _no_client()
    bar = contextlib.nullcontext()
    if progress and local:
        from dask.diagnostics import ProgressBar

        bar = ProgressBar(out=sys.stderr)
    results = results.assign_attrs(attrs)
    with bar:
        return write_netcdf(target, results if local else results.compute())


def _no_client() -> bool:
    if "distributed" not in sys.modules:  # no client without it (and importing it costs 1 s and 40 MB)
        return True
    try:
        from distributed import default_client

        default_client()
    except (ImportError, ValueError):
        return True
    return False
