"""Time reading 1000 text files with spectro and with xraylarch's readers.

Cycles through the real text spectra in ``SPECTRO_DATA_DIR`` that both
spectro and larch read (XDI with ``larch.io.read_xdi``, column files with
``larch.io.read_ascii``) and reports seconds per file for each and the
ratio spectro / larch (below 1: spectro is faster). spectro's time includes
building and validating the xarray Dataset (mu computed, grid cleaned);
larch's is parsing into a Group.

Usage::

    SPECTRO_DATA_DIR=../shared/data python benchmarks/read_files.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

N_FILES = 1000
N_QUICK = 100
_TEXT_SUFFIXES = {".xdi", ".dat", ".csv", ".tsv", ".060", ".000"}


def candidates(root: Path) -> list[tuple[Path, str]]:
    """Text files both spectro and larch read, with larch's reader name."""
    import larch.io

    import spectro
    import spectro.io  # not loaded by import spectro
    from spectro.errors import SpectroError

    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in _TEXT_SUFFIXES:
            continue
        reader = "xdi" if spectro.io.sniff_format(path) == "xdi" else "ascii"
        if spectro.io.sniff_format(path) not in ("xdi", "columns"):
            continue
        try:
            spectro.read(path)
            (larch.io.read_xdi if reader == "xdi" else larch.io.read_ascii)(str(path))
        except (
            SpectroError,
            OSError,
            ValueError,
            LookupError,
            AttributeError,
            TypeError,
        ):
            continue
        found.append((path, reader))
    return found


def time_reads(files: list[tuple[Path, str]], n: int) -> dict[str, float]:
    """Seconds per file for spectro and larch over ``n`` reads cycling through ``files``.

    The two readers alternate file by file, so that load from other
    processes on the machine affects both alike.
    """
    import larch.io

    import spectro

    t_spectro = t_larch = 0.0
    for i in range(n):
        path, reader = files[i % len(files)]
        t0 = time.perf_counter()
        spectro.read(path)
        t1 = time.perf_counter()
        (larch.io.read_xdi if reader == "xdi" else larch.io.read_ascii)(str(path))
        t2 = time.perf_counter()
        t_spectro += t1 - t0
        t_larch += t2 - t1
    return {
        "spectro_s_per_file": t_spectro / n,
        "larch_s_per_file": t_larch / n,
        "ratio": t_spectro / t_larch,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{N_QUICK} reads instead of {N_FILES}"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    root = os.environ.get("SPECTRO_DATA_DIR")
    if not root or not Path(root).is_dir():
        print(
            "error: set SPECTRO_DATA_DIR to the folder of real spectra", file=sys.stderr
        )
        return 2
    warnings.simplefilter("ignore")
    files = candidates(Path(root))
    n = N_QUICK if args.quick else N_FILES
    result = {"n_reads": n, "n_distinct_files": len(files), **time_reads(files, n)}
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{n} reads over {len(files)} files: spectro {1e3 * result['spectro_s_per_file']:.2f} ms/file, "
            f"larch {1e3 * result['larch_s_per_file']:.2f} ms/file, ratio spectro/larch {result['ratio']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
