"""Running a kernel over a Dataset with ``xarray.apply_ufunc``, for NumPy and dask alike (XANES and XES)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .errors import DataError, SpectroWarning
from .model import energy_dim


def signal(ds: xr.Dataset, name: str = "mu") -> xr.DataArray:
    """The signal variable ``name`` of a XANES Dataset, or a DataError (saying so when ``ds`` is an XES Dataset).

    Examples
    --------
    >>> import spectro
    >>> signal(spectro.simulate.xes(seed=0))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spectro.errors.DataError: no variable 'mu' in the Dataset: it is an XES spectrum ...: analyse it with spectro.xes.analyze ...
    """
    if name not in ds.data_vars:
        xes = ds.attrs.get("kind") == "xes"
        hint = (": it is an XES spectrum (intensity against emission energy): analyse it with spectro.xes.analyze "
                "(spectro xes on the command line)") if xes else ""
        raise DataError(f"no variable {name!r} in the Dataset{hint}", file=ds.attrs.get("source_file"))
    return ds[name]


def is_lazy(ds: xr.Dataset) -> bool:
    """True when any variable of ``ds`` is not an in-memory numpy array (e.g. dask)."""
    return any(not isinstance(v.data, np.ndarray) for v in ds.variables.values())


def run(func: Callable[..., tuple], da: xr.DataArray, **options: Any) -> xr.Dataset:
    """The Dataset of :func:`run_parts` (the same arguments, keyword-only options)."""
    data, coords = run_parts(func, da, **options)
    return xr.Dataset(data, coords=coords)


def run_parts(
    func: Callable[..., tuple],
    da: xr.DataArray,
    *,
    outputs: Mapping[str, tuple[Sequence[str], str, str]],
    args: Sequence[xr.DataArray | float] = (),
    kwargs: Mapping[str, Any] | None = None,
    attrs: Mapping[str, Mapping[str, Any]] | None = None,
    integers: Collection[str] = (),
    coords_of: xr.Dataset | None = None,
) -> tuple[dict[str, xr.Variable], xr.Coordinates]:
    """Apply ``func(mu, *args, energy=..., **kwargs) -> tuple`` along energy.

    ``outputs`` maps each output name, in order, to (core dims, units,
    long_name); a core dim ``"energy"`` means the same energy axis.
    ``attrs`` replaces the attrs of the outputs it names, ``integers`` are
    returned as int64. The result carries the coordinates of ``coords_of``
    (default: of ``da``) that fit its dims, in that order (dims first), so
    that whatever path made the result (NumPy or dask) its coordinates are
    the same.

    The work is done on the underlying ``xarray.Variable`` objects: the
    labels are those of ``da``, which every argument shares, so there is
    nothing to align. Returns the output Variables, by name in the order of
    ``outputs``, and the coordinates, from which the caller builds its
    Dataset once (:func:`run` does it as they are; a caller adding
    variables adds them first: each Dataset built merges every variable).
    """
    dim = da.dims[-1] if "energy" not in da.dims else "energy"
    energy = np.asarray(da[dim].values, dtype=float)
    names = list(outputs)
    core_out = [["__e" if d == "energy" else d for d in outputs[n][0]] for n in names]
    extra = [a for a in args if isinstance(a, xr.DataArray)]
    if len(extra) < len(args):
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

    def along_e(v: xr.Variable) -> xr.Variable:
        return xr.Variable(tuple("__e" if d == dim else d for d in v.dims), v.data)

    n_out = (1 if per_scan else 0) + len(others)
    res = xr.apply_ufunc(
        call,
        along_e(da.variable),
        *[along_e(a.variable) for a in extra],
        input_core_dims=[["__e"]] + [["__e"] if dim in a.dims else [] for a in extra],
        output_core_dims=([["__o"]] if per_scan else []) + [core_out[i] for i in others],
        dask="parallelized",
        output_dtypes=[float] * n_out,
        dask_gufunc_kwargs={"allow_rechunk": True, "output_sizes": {"__o": len(per_scan)}},
        keep_attrs=False,
    )
    res = list(res) if n_out > 1 else [res]
    arrays: dict[str, tuple[tuple[str, ...], Any]] = {}
    if per_scan:
        packed = res.pop(0)
        arrays.update({names[i]: (packed.dims[:-1], packed.data[..., k]) for k, i in enumerate(per_scan)})
    arrays.update({
        names[i]: (tuple(dim if d == "__e" else d for d in r.dims), r.data) for i, r in zip(others, res)
    })
    data = {}
    for n in names:
        dims, values = arrays[n]
        if n in integers:
            values = values.astype(np.int64)
        _, units, long_name = outputs[n]
        given = (attrs or {}).get(n)
        data[n] = xr.Variable(dims, values, dict(given) if given is not None else
                              {"units": units, "long_name": long_name})
    source = da if coords_of is None else coords_of
    present = {d for v in data.values() for d in v.dims}
    given = source.coords.variables  # one mapping, not one per name looked up
    order = [k for k in source.dims if k in given] + [k for k in given if k not in source.dims]
    kept = [k for k in order if set(given[k].dims) <= present]
    # the source's indexes are reused, not rebuilt
    coords = xr.Coordinates({k: given[k] for k in kept},
                            indexes={k: i for k, i in source.xindexes.items() if k in kept})
    return data, coords


def scan_coords(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """Per-scan coordinates of ``ds`` (to carry over to results)."""
    dim = energy_dim(ds)
    return {k: v for k, v in ds.coords.items() if k != dim and dim not in v.dims}


def flagged(flags: np.ndarray, labels: np.ndarray, kind: type[enum.IntFlag]) -> dict[Any, list[str]]:
    """The labels of the scans that carry each bit of the flag enum ``kind`` (XANES and XES flags alike).

    Examples
    --------
    >>> class F(enum.IntFlag):
    ...     A = 1
    ...     B = 2
    >>> flagged(np.array([0, 2, 3]), np.array(["a", "b", "c"]), F)
    {<F.A: 1>: ['c'], <F.B: 2>: ['b', 'c']}
    """
    flags = np.asarray(flags, dtype=np.int64)
    out = {}
    for flag in kind:
        rows = np.flatnonzero(flags & int(flag))
        if rows.size:
            out[flag] = [str(labels[i]) for i in rows]
    return out


def flag_warnings(flags: np.ndarray, labels: np.ndarray, kind: type[enum.IntFlag], reasons: Mapping[Any, str], *,
                  file: str = "", categories: Mapping[Any, type[SpectroWarning]] | None = None,
                  default: type[SpectroWarning] = SpectroWarning) -> list[SpectroWarning]:
    """One warning per bit of ``kind`` that some scans carry: ``<file>: scans 'a', 'b': <reason>``.

    The warning's class is ``categories[flag]`` (``default`` for the others).

    Examples
    --------
    >>> class F(enum.IntFlag):
    ...     A = 1
    >>> [str(w) for w in flag_warnings(np.array([0, 1]), np.array(["a", "b"]), F, {F.A: "too short"}, file="x")]
    ["x: scans 'b': too short"]
    """
    prefix = f"{file}: " if file else ""
    return [(categories or {}).get(flag, default)(f"{prefix}scans {', '.join(repr(s) for s in scans)}: {reasons[flag]}")
            for flag, scans in flagged(flags, labels, kind).items()]

