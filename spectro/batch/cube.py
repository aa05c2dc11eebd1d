"""Large XANES maps ``(y, x, energy)`` processed lazily in chunks with dask.

A map of a million spectra does not fit in memory as float64 several times
over, so :func:`analyze_cube` never loads it: the array is chunked along
its spatial dimensions with the whole energy axis in each chunk, and each
chunk goes through a kernel chain (by default normalization, E0 at 0.8 of
the jump and the pre-edge centroid of :mod:`spectro.xanes`) via
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
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ColumnError, DataError, FormatError, MissingFileError

__all__ = [
    "CHUNK_BYTES",
    "XANES_OUTPUTS",
    "CubeKernel",
    "analyze_cube",
    "chunk_sizes",
    "open_cube",
    "write_cube_results",
    "xanes_chain",
]

#: Default target size of one input chunk (bytes): 4 MiB, i.e. about 2600
#: spectra of 200 float64 points. The XANES chain's temporaries are about
#: 75 times its input, so one chunk in flight needs about 300 MB.
CHUNK_BYTES = 4 * 2**20


@dataclass(frozen=True)
class CubeKernel:
    """A chain of kernels applied to each chunk of a cube.

    Attributes
    ----------
    function : callable
        ``function(energy, mu, **options) -> mapping`` with ``energy`` of
        shape (n,) in eV and ``mu`` of shape (..., n); returns one array of
        shape (...) per name in ``outputs``.
    outputs : tuple of (name, units, long_name)
        The per-spectrum results, in order.
    """

    function: Callable[..., Mapping[str, np.ndarray]]
    outputs: tuple[tuple[str, str, str], ...]


def chunk_sizes(shape: Sequence[int], itemsize: int = 8, *, chunk_bytes: int = CHUNK_BYTES) -> tuple[int, ...]:
    """Chunk shape for an array (..., energy): whole energy axis, spatial dims split.

    The last spatial dimension is kept whole when it fits, and the earlier
    ones are split so that one chunk holds about ``chunk_bytes``.

    Examples
    --------
    >>> chunk_sizes((1000, 1000, 200))
    (2, 1000, 200)
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


def _stacked(mu: np.ndarray, energy: np.ndarray, *, kernel: CubeKernel, options: Mapping[str, Any]) -> np.ndarray:
    values = kernel.function(energy, mu, **options)
    return np.stack([np.broadcast_to(values[name], mu.shape[:-1]) for name, _, _ in kernel.outputs], axis=-1)


def analyze_cube(
    data: xr.DataArray,
    *,
    energy_dim: str = "energy",
    kernel: CubeKernel | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    **options: Any,
) -> xr.Dataset:
    """Per-spectrum results of a large map, lazily, chunk by chunk.

    Parameters
    ----------
    data : xarray.DataArray
        mu with dims (..., ``energy_dim``), e.g. (y, x, energy), NumPy- or
        dask-backed; energies in eV as the ``energy_dim`` coordinate,
        strictly increasing.
    energy_dim : str, default "energy"
    kernel : CubeKernel, optional
        The chain applied to each chunk; default :func:`xanes_chain`
        (normalization, E0 at 0.8 of the jump, pre-edge centroid).
    chunk_bytes : int
        Target bytes of input per chunk (:func:`chunk_sizes`); the energy
        axis is never split.
    **options
        Passed to the kernel function (e.g. normalization windows).

    Returns
    -------
    xarray.Dataset
        Dask-backed, one variable per kernel output with the spatial dims
        of ``data``; call ``.compute()`` (or ``.to_netcdf``) to run it on the
        current dask scheduler (threads, or a distributed Client if one is
        active). The kernel name and options are in attrs.

    Raises
    ------
    DataError
        No energy dimension, or energies not strictly increasing.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> e = np.linspace(8300.0, 8400.0, 201)
    >>> mu = xr.DataArray(np.broadcast_to(np.tanh((e - 8340) / 5), (4, 3, 201)),
    ...                   dims=("y", "x", "energy"), coords={"energy": e})
    >>> half = CubeKernel(lambda energy, mu: {"e_half": energy[np.argmax(mu > 0, axis=-1)]},
    ...                   (("e_half", "eV", "first energy above 0"),))
    >>> analyze_cube(mu, kernel=half).e_half.compute().values[0, 0]
    np.float64(8340.5)
    """
    if energy_dim not in data.dims:
        raise DataError(f"the map has no {energy_dim!r} dimension; its dims are {data.dims}")
    energy = np.asarray(data[energy_dim].values, dtype=float)
    if energy.size < 2 or not np.all(np.diff(energy) > 0):
        raise DataError(f"{energy_dim!r} must be strictly increasing with at least 2 points")
    kernel = kernel or xanes_chain()
    data = data.transpose(..., energy_dim)
    sizes = chunk_sizes(data.shape, np.dtype(data.dtype).itemsize, chunk_bytes=chunk_bytes)
    data = data.chunk(dict(zip(data.dims, sizes)))
    stacked = xr.apply_ufunc(
        _stacked,
        data,
        input_core_dims=[[energy_dim]],
        output_core_dims=[["output"]],
        kwargs={"energy": energy, "kernel": kernel, "options": options},
        dask="parallelized",
        output_dtypes=[float],
        dask_gufunc_kwargs={"output_sizes": {"output": len(kernel.outputs)}},
    )
    variables = {
        name: stacked.isel(output=i, drop=True).assign_attrs(units=units, long_name=long_name)
        for i, (name, units, long_name) in enumerate(kernel.outputs)
    }
    attrs = {"kernel": getattr(kernel.function, "__qualname__", str(kernel.function))}
    attrs.update({f"option_{k}": (str(v) if not isinstance(v, (int, float, str)) else v) for k, v in options.items()})
    return xr.Dataset(variables, attrs=attrs)


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
    """Compute lazy cube results and write them atomically to NetCDF (h5netcdf).

    Computing happens on the active dask scheduler (a distributed Client
    if one is active, else threads). Provenance goes to attrs: ``source``,
    ``source_sha256`` (for a single file), ``created`` and library versions.

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
    bar = contextlib.nullcontext()
    if progress and _no_client():
        from dask.diagnostics import ProgressBar

        bar = ProgressBar(out=sys.stderr)
    with bar:
        computed = results.assign_attrs(attrs).compute()
    return write_netcdf(target, computed)


def _no_client() -> bool:
    try:
        from distributed import default_client

        default_client()
    except (ImportError, ValueError):
        return True
    return False


#: Outputs of :func:`xanes_chain`: name, units, long_name.
XANES_OUTPUTS = (
    ("e0", "eV", "edge position: crossing of 0.8 of the normalized jump"),
    ("e0_err", "eV", "edge position uncertainty (1 sigma)"),
    ("edge_step", "1", "edge step (units of mu)"),
    ("edge_step_err", "1", "edge step uncertainty (1 sigma)"),
    ("preedge_centroid", "eV", "pre-edge centroid (model-free)"),
    ("preedge_centroid_err", "eV", "pre-edge centroid uncertainty (1 sigma)"),
    ("preedge_area", "eV", "pre-edge area (normalized units times eV)"),
    ("preedge_area_err", "eV", "pre-edge area uncertainty (1 sigma)"),
)

_PREEDGE_OPTIONS = ("fit_range", "peak_range", "form", "tail_width")


def _xanes_chain(
    energy: np.ndarray,
    mu: np.ndarray,
    *,
    level: float = 0.8,
    search: tuple[float, float] | None = None,
    **options: Any,
) -> dict[str, np.ndarray]:
    from ..errors import SpectroWarning
    from ..xanes import e0_crossing_arrays, normalize_arrays
    from ..xanes.preedge import preedge_centroid_arrays

    preedge = {k: options.pop(k) for k in _PREEDGE_OPTIONS if k in options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpectroWarning)
        norm = normalize_arrays(energy, mu, **options)
        edge = e0_crossing_arrays(
            energy, norm.norm, level=level, search=search, sigma=norm.sigma, level_err=norm.level_err
        )
        pre = preedge_centroid_arrays(energy, norm.norm, sigma=norm.sigma, **preedge)
    return {
        "e0": edge.e0,
        "e0_err": edge.e0_err,
        "edge_step": norm.edge_step,
        "edge_step_err": norm.edge_step_err,
        "preedge_centroid": pre.centroid,
        "preedge_centroid_err": pre.centroid_err,
        "preedge_area": pre.area,
        "preedge_area_err": pre.area_err,
    }


def xanes_chain() -> CubeKernel:
    """The default chain: normalization, E0 at 0.8 of the jump, pre-edge centroid.

    Options of :func:`analyze_cube` go to
    :func:`spectro.xanes.normalize_arrays` (``pre1``, ``pre2``, ``norm1``,
    ``norm2``, ``nnorm``, ...), ``level`` and ``search`` (an energy range
    in eV that contains the edge of every spectrum; it saves time) to
    :func:`spectro.xanes.e0_crossing_arrays`, and ``fit_range``,
    ``peak_range``, ``form``, ``tail_width`` to
    :func:`spectro.xanes.preedge.preedge_centroid_arrays` (the model-free
    centroid: the lmfit model fit is one fit per spectrum, too slow for
    maps). Warnings inside chunks are not raised: a metric that cannot be
    computed for a spectrum is NaN.

    Examples
    --------
    >>> [name for name, _, _ in xanes_chain().outputs][:2]
    ['e0', 'e0_err']
    """
    return CubeKernel(_xanes_chain, XANES_OUTPUTS)
