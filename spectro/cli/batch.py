"""The ``spectro batch`` command: analyse many files, or large maps, into NetCDF and CSV.

Examples::

    spectro batch data/*.xdi -o results/
    spectro batch manifest.csv -o results/ --resume --progress
    spectro batch scans/ -o results/ --references "NiO=2;LaNiO3=3" --workers 2
    spectro batch map.zarr -o results/ --cube mu --scheduler tcp://10.0.0.5:8786
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..batch.runner import CHUNK_SIZE
from ._output import json_ready

__all__ = ["CLUSTER_MIN_INPUTS", "register", "run"]

#: Without --workers, a local cluster (one worker per CPU) is started for at
#: least this many inputs: its start-up (about 5 s) then costs less than it saves.
CLUSTER_MIN_INPUTS = 64


def _positive(text: str) -> int:
    """An integer of at least 1 (argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value

def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``batch`` subcommand."""
    parser = subparsers.add_parser(
        "batch",
        help="analyse many files (or large maps) into NetCDF and CSV",
        description=(
            "Read, calibrate, normalize and analyse every input (XANES: E0, pre-edge, valence; "
            "XES: Kbeta metrics). Inputs are files, folders, glob patterns or manifest CSV files "
            "(columns file, pressure, temperature, run, sample, kind, references). Failures are "
            "listed in OUT/failures.csv and the rest is finished; every output is written "
            "atomically; --resume skips the chunks of inputs already recorded under OUT/parts/."
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
        "--references",
        default="",
        metavar="ANCHORS",
        help="valence anchors for inputs without their own, e.g. 'NiO=2;LaNiO3=3' (ids, formulas or files)",
    )
    parser.add_argument(
        "--no-default-references",
        action="store_true",
        help="do not use the catalogue's NiO/LaNiO3 anchors when no references are given",
    )
    parser.add_argument("--element", default="Ni", help="emitting element of XES inputs (default Ni)")
    parser.add_argument(
        "--xanes", action="append", default=[], metavar="KEY=VALUE",
        help="option of spectro.xanes.analyze (and of the --cube chain), repeatable, VALUE as JSON: "
        "--xanes pre1=-60 --xanes norm2=100 --xanes 'fit_range=[8325,8338.5]'",
    )
    parser.add_argument(
        "--xes", action="append", default=[], metavar="KEY=VALUE",
        help="option of spectro.xes.analyze, repeatable, VALUE as JSON",
    )
    parser.add_argument(
        "--cube",
        metavar="VARIABLE",
        help="treat inputs as (y, x, energy) maps (Zarr, NetCDF or HDF5) and analyse VARIABLE lazily with dask",
    )
    parser.add_argument("--energy", default="energy", help="energy coordinate (or HDF5 dataset) of --cube maps")
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
    return parser


def _key_values(items: list[str], flag: str) -> dict:
    """``["pre1=-60", "form=linear"]`` -> ``{"pre1": -60, "form": "linear"}`` (values as JSON, else text)."""
    from ..errors import FormatError

    options = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise FormatError(f"{flag} {item!r} must be KEY=VALUE, e.g. {flag} pre1=-60")
        try:
            options[key.strip()] = json.loads(text)
        except ValueError:
            options[key.strip()] = text
    return options


def _run_files(args: argparse.Namespace, progress: bool) -> dict:
    from ..batch import expand_inputs, parse_references, run_batch
    from ..batch.cluster import dask_client, default_workers

    jobs = expand_inputs(args.inputs, references=parse_references(args.references))
    options = {
        "element": args.element,
        "default_references": not args.no_default_references,
        "xanes": _key_values(args.xanes, "--xanes"),
        "xes": _key_values(args.xes, "--xes"),
    }
    workers = args.workers
    if workers is None:
        workers = default_workers() if len(jobs) >= CLUSTER_MIN_INPUTS else 1
    with dask_client(scheduler=args.scheduler, workers=workers) as client:
        executor = None if client is None else client.get_executor(pure=False)
        slots = None if client is None else sum(client.nthreads().values())
        summary = run_batch(jobs, args.out, options=options, resume=args.resume, progress=progress,
                            executor=executor, workers=slots, chunk_size=args.chunk_size)
    return summary.to_dict()


def _run_cubes(args: argparse.Namespace, progress: bool) -> dict:
    from ..batch.cluster import dask_client, default_workers
    from ..batch.cube import analyze_cube, open_cube, write_cube_results

    written = []
    cubes = [open_cube(p, variable=args.cube, energy=args.energy) for p in args.inputs]
    large = any(c.nbytes > 2**30 for c in cubes)
    workers = args.workers if args.workers is not None else (default_workers() if large else 1)
    with dask_client(scheduler=args.scheduler, workers=workers):
        for path, cube in zip(args.inputs, cubes):
            target = args.out / f"{Path(path).name}.results.nc"
            results = analyze_cube(cube, energy_dim=cube.dims[-1], **_key_values(args.xanes, "--xanes"))
            write_cube_results(results, target, progress=progress, source=path)
            written.append(str(target))
    return {"out": str(args.out), "n_inputs": len(cubes), "outputs": written}


def run(args: argparse.Namespace) -> int:
    """Run ``spectro batch``; exit status 0 when every input succeeded, 1 otherwise."""
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    summary = _run_cubes(args, progress) if args.cube else _run_files(args, progress)
    if args.json:
        print(json.dumps(json_ready(summary)))
    elif not args.cube:
        print(
            f"{summary['n_succeeded']} of {summary['n_inputs']} inputs processed "
            f"({summary['n_spectra']} spectra, {summary['n_skipped']} resumed), "
            f"{len(summary['failures'])} failures; results in {summary['out']}"
        )
    else:
        print("\n".join(summary["outputs"]))
    return 0 if args.cube or summary["n_failed"] == 0 else 1
