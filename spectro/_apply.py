"""Running a kernel over a Dataset with ``xarray.apply_ufunc``, for NumPy and dask alike (XANES and XES)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .errors import DataError
from .model import energy_dim


def signal(ds: xr.Dataset, name: str = "mu") -> xr.DataArray:
    """The signal variable ``name`` of a XANES Dataset, or a DataError."""
    if name not in ds.data_vars:
        raise DataError(
            f"no variable {name!r} in the Dataset", file=ds.attrs.get("source_file")
        )
    return ds[name]


def is_lazy(ds: xr.Dataset) -> bool:
    """True when any variable of ``ds`` is not an in-memory numpy array (e.g. dask)."""
    return any(not isinstance(v.data, np.ndarray) for v in ds.variables.values())


def run(
    func: Callable[..., tuple],
    da: xr.DataArray,
    *,
    outputs: Mapping[str, tuple[Sequence[str], str, str]],
    args: Sequence[xr.DataArray | float] = (),
    kwargs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Apply ``func(mu, *args, energy=..., **kwargs) -> tuple`` along energy.

    ``outputs`` maps each output name, in order, to (core dims, units,
    long_name); a core dim ``"energy"`` means the same energy axis.
    """
    dim = da.dims[-1] if "energy" not in da.dims else "energy"
    energy = np.asarray(da[dim].values, dtype=float)
    names = list(outputs)
    core_out = [["__e" if d == "energy" else d for d in outputs[n][0]] for n in names]
    extra = [a for a in args if isinstance(a, xr.DataArray)]
    scalars = [a for a in args if not isinstance(a, xr.DataArray)]
    if scalars:
        raise TypeError("extra positional arguments must be DataArrays")

    # The per-scan outputs travel as one array with a trailing "__o" dim: one
    # dask task per chunk instead of one per output and chunk.
    per_scan = [i for i, c in enumerate(core_out) if not c]
    others = [i for i, c in enumerate(core_out) if c]

    def call(mu, *rest):
        out = [np.asarray(o, dtype=float) for o in func(mu, *rest, energy=energy, **(kwargs or {}))]
        packed = np.stack([out[i] for i in per_scan], axis=-1) if per_scan else None
        result = ([packed] if per_scan else []) + [out[i] for i in others]
        return tuple(result) if len(result) > 1 else result[0]

    n_out = (1 if per_scan else 0) + len(others)
    res = xr.apply_ufunc(
        call,
        da.rename({dim: "__e"}),
        *[a.rename({dim: "__e"}) if dim in a.dims else a for a in extra],
        input_core_dims=[["__e"]] + [["__e"] if dim in a.dims else [] for a in extra],
        output_core_dims=([["__o"]] if per_scan else []) + [core_out[i] for i in others],
        dask="parallelized",
        output_dtypes=[float] * n_out,
        dask_gufunc_kwargs={"allow_rechunk": True, "output_sizes": {"__o": len(per_scan)}},
        keep_attrs=False,
    )
    res = list(res) if n_out > 1 else [res]
    arrays = {}
    if per_scan:
        packed = res.pop(0)
        arrays.update({names[i]: packed.isel(__o=k) for k, i in enumerate(per_scan)})
    arrays.update({names[i]: r.rename({"__e": dim}) for i, r in zip(others, res)})
    data = {}
    for n in names:
        _, units, long_name = outputs[n]
        data[n] = arrays[n].assign_attrs(units=units, long_name=long_name)
    return xr.Dataset(data)


def scan_coords(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """Per-scan coordinates of ``ds`` (to carry over to results)."""
    dim = energy_dim(ds)
    return {k: v for k, v in ds.coords.items() if k != dim and dim not in v.dims}


def with_coords_of(out: xr.Dataset, ds: xr.Dataset) -> xr.Dataset:
    """``out`` with the coordinates of ``ds`` in the order ``ds`` has them (dims first).

    Whatever path made ``out`` (NumPy or dask, eager or lazy), its
    coordinates are then the same and in the same order.
    """
    order = [k for k in ds.dims if k in ds.coords] + [k for k in ds.coords if k not in ds.dims]
    coords = {k: ds.coords[k].variable for k in order if set(ds.coords[k].dims) <= set(out.dims)}
    return xr.Dataset({k: v.variable for k, v in out.data_vars.items()}, coords=coords, attrs=out.attrs)
