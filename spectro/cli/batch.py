"""The ``spectro batch`` command: analyse many files, or large maps, into NetCDF and CSV.

Examples::

    spectro batch data/*.xdi -o results/
    spectro batch manifest.csv -o results/ --resume --progress
    spectro batch scans/ -o results/ --anchors NiO=2 LaNiO3=3 --workers 2 --preedge centroid
    spectro batch map.zarr -o results/ --cube mu --scheduler tcp://10.0.0.5:8786
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..batch.limits import CHUNK_SIZE, TIME_LIMIT
from ._options import add_option_flags, options_from_flags
from ._output import STATISTICAL_ONLY, json_ready

__all__ = ["CLUSTER_MIN_INPUTS", "register", "run"]

#: Without --workers, a local cluster (one worker per CPU) is started for at
#: least this many inputs: its start-up (5-25 s measured on 2 CPUs) then costs
#: less than it saves (one process does an XDI input in about 3 ms of CPU, so
#: 64 inputs took 0.2 s alone; two workers gain from about 3000 inputs).
CLUSTER_MIN_INPUTS = 4096


def _positive(text: str) -> int:
    """An integer of at least 1 (argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float | None:
    """A time limit in seconds, None for 0 or ``none`` (argparse type)."""
    if text.strip().lower() in ("0", "none"):
        return None
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds (or 0: none), not {text}")
    return value

def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``batch`` subcommand."""
    parser = subparsers.add_parser(
        "batch",
        help="analyse many files (or large maps) into NetCDF and CSV",
        description=(
            "Read, calibrate, normalize and analyse every input (XANES: E0, pre-edge, valence; "
            "XES: Kbeta metrics). Inputs are files, folders, glob patterns or manifest CSV files "
            "(columns file, pressure, temperature, run, sample, kind; references (NAME=VALENCE;...) or "
            "valence (a reference row: the anchor of the rows without references); and reading options "
            "named like the reading flags, e.g. mu, mode, i0, reference, that change them for that row's "
            "files). The reading flags apply to every file. Failures are "
            "listed in OUT/failures.csv (one error line each on stderr) and the rest is finished; every "
            "output is written atomically; --resume skips the chunks of inputs already recorded under "
            "OUT/parts/. Files below OUT are never inputs, and OUT is locked while the batch writes it. "
            "Exit status: 0 all inputs processed, 1 some failed or have no valence, 2 usage or input "
            "error, 3 output failure (or OUT is being written by another batch)."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="file, folder, glob or manifest CSV")
    parser.add_argument("-o", "--out", required=True, type=Path, help="output folder")
    parser.add_argument("--resume", action="store_true", help="skip inputs already processed with the same parameters")
    parser.add_argument(
        "--chunk-size", type=_positive, default=CHUNK_SIZE, metavar="N",
        help=f"consecutive inputs analysed together and recorded as one (default {CHUNK_SIZE}); "
        "keep it the same when resuming",
    )
    parser.add_argument(
        "--time-limit", type=_seconds, default=TIME_LIMIT, metavar="SECONDS",
        help=f"seconds one input may take to be read and analysed before it is recorded as failed and the "
        f"batch goes on (default {TIME_LIMIT:g}; 0: no limit); also the time each valence anchor may take to be "
        "hashed, and each set of anchors to be read and analysed",
    )
    parser.add_argument(
        "--no-valence", action="store_true",
        help="compute no valence (by default every XANES input gets one from its manifest references or --anchors)",
    )
    parser.add_argument(
        "--cube",
        metavar="VARIABLE",
        help="treat inputs as (y, x, energy) maps (Zarr, NetCDF or HDF5) and analyse VARIABLE lazily with dask",
    )
    parser.add_argument("--cube-energy", default="energy", metavar="NAME",
                        help="energy coordinate (or HDF5 dataset) of --cube maps (default: energy)")
    parser.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help=f"local dask worker processes (default: one per CPU for >= {CLUSTER_MIN_INPUTS} files or maps "
        "over 1 GiB, else none: work in this process)",
    )
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing dask.distributed scheduler")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="show a progress bar on stderr")
    progress.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_option_flags(parser, "read", "xanes", "xes", "valence")
    return parser


def _run_files(args: argparse.Namespace, progress: bool) -> dict:
    from ..batch import expand_inputs, run_batch
    from ..batch.cluster import dask_client, default_workers
    from ..batch.pipeline import check_valence_observable
    from ..errors import OptionError

    options = options_from_flags(args, valence=not args.no_valence)
    if options.valence is not None:
        try:
            check_valence_observable(options.valence.observable)
        except OptionError as err:
            raise err.through("cli") from None
    jobs = expand_inputs(args.inputs, exclude=[args.out])
    workers = args.workers
    if workers is None:
        workers = default_workers() if len(jobs) >= CLUSTER_MIN_INPUTS else 1
    with dask_client(scheduler=args.scheduler, workers=workers) as client:
        executor = None if client is None else client.get_executor(pure=False)
        slots = None if client is None else sum(client.nthreads().values())
        summary = run_batch(jobs, args.out, options=options, resume=args.resume, progress=progress,
                            executor=executor, workers=slots, chunk_size=args.chunk_size,
                            time_limit=args.time_limit)
    return summary.to_dict()


def _run_cubes(args: argparse.Namespace, progress: bool) -> dict:
    from ..batch.cluster import dask_client, default_workers
    from ..batch.cube import CUBE_OPTIONS, analyze_cube, open_cube, write_cube_results
    from ..batch.lock import output_lock
    from ..errors import OptionError
    from ..options import ReadOptions, XanesOptions

    written = []
    options = XanesOptions.from_args(args, base=CUBE_OPTIONS)
    unused = ReadOptions.from_args(args).changed()
    if unused:
        name = next(iter(unused))
        raise OptionError(name, unused[name], "reading flags do not apply to --cube maps (use --cube-energy)",
                          door="cli")
    paths = list(dict.fromkeys(Path(p).resolve() for p in args.inputs))
    cubes = [open_cube(p, variable=args.cube, energy=args.cube_energy) for p in paths]
    large = any(c.nbytes > 2**30 for c in cubes)
    workers = args.workers if args.workers is not None else (default_workers() if large else 1)
    with output_lock(args.out), dask_client(scheduler=args.scheduler, workers=workers):
        for path, name, cube in zip(paths, cube_output_names(paths), cubes):
            target = args.out / name
            results = analyze_cube(cube, options, energy_dim=cube.dims[-1])
            write_cube_results(results, target, progress=progress, source=str(path))
            written.append(str(target))
    return {"out": str(args.out), "n_inputs": len(cubes), "outputs": written}


def cube_output_names(paths: list[Path]) -> list[str]:
    """``<name>.results.nc`` for each map; maps of the same name get the start of their path's SHA-256 too.

    Examples
    --------
    >>> from pathlib import Path
    >>> cube_output_names([Path("/a/map.zarr"), Path("/b/map.zarr"), Path("/b/other.h5")])
    ['map.zarr.cb71c2b7.results.nc', 'map.zarr.123d69dc.results.nc', 'other.h5.results.nc']
    """
    import hashlib
    from collections import Counter

    counts = Counter(p.name for p in paths)
    return [f"{p.name}.results.nc" if counts[p.name] == 1 else
            f"{p.name}.{hashlib.sha256(str(p).encode()).hexdigest()[:8]}.results.nc" for p in paths]


def run(args: argparse.Namespace) -> int:
    """Run ``spectro batch``; exit status 0 when every input succeeded (with its valence), 1 otherwise.

    Each input that failed whole, or got no valence from the anchors it
    named, gets one line ``error: <file>: <reason>`` on stderr (all
    failures are in ``failures.csv``). An input without its
    valence (its default anchors could not be read) counts as failed unless
    ``--no-valence``: one ``warning:`` line each on stderr, a
    ``NoValenceWarning`` in ``warnings.csv``. Without ``--budget`` a note
    on stderr says that the results' errors are statistical only.
    """
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    summary = _run_cubes(args, progress) if args.cube else _run_files(args, progress)
    if args.json:
        print(json.dumps(json_ready(summary)))
    elif not args.cube:
        print(
            f"{summary['n_succeeded']} of {summary['n_inputs']} inputs processed "
            f"({summary['n_spectra']} spectra, {summary['n_skipped']} resumed), "
            f"{len(summary['failures'])} failures, {summary['n_warnings']} warnings (warnings.csv); "
            f"results in {summary['out']}"
        )
        if summary["n_spectra"] and not args.budget:
            print(STATISTICAL_ONLY, file=sys.stderr)
    else:
        print("\n".join(summary["outputs"]))
    if args.cube:
        return 0
    whole = [f for f in summary["failures"] if not f["scan"]]  # the failed scans of the others: failures.csv
    for failure in whole:  # an input that failed, or got no valence from the anchors it named
        print(f"error: {failure['file']}: {' '.join(failure['reason'].split())}", file=sys.stderr)
    for file in summary["without_valence"]:
        print(f"warning: {file}: no valence: its valence anchors are not reachable (see warnings.csv); "
              "give --anchors NAME=VALENCE ... or --no-valence", file=sys.stderr)
    return 0 if summary["n_failed"] == 0 and not whole and not summary["without_valence"] else 1
