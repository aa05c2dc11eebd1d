"""Fuzzing the readers with mutants of the real files: a SpectroError or a Dataset, never anything else.

300 mutants (fixed seed) of the files in SPECTRO_DATA_DIR: bytes flipped,
cut short, slices repeated or moved, lines dropped or doubled, garbage and
wrong-width rows inserted, line endings turned to CR, digits turned to
commas, deep nesting of brackets, lines of up to 2 MB; gzip-compressed Athena projects are mutated inside the compression
and compressed again. They are read by ``spectro.read`` in two
subprocesses, each under an address-space limit (``RLIMIT_AS``) and with a
per-file alarm, so that a read that would hang or take unbounded memory
shows up as such instead of stalling or swapping the test run. Every read
must give a Dataset or raise a SpectroError (not the one saying that memory
ran out); the children must not crash, and their peak memory stays under
the limit they were given.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

N_MUTANTS = 300
SEED = 20261203
N_CHILDREN = 2
#: Address space of a child, bytes (Python with NumPy, xarray and h5py takes about 0.6 GB of it).
MEMORY_LIMIT = 3 << 30
#: Seconds one read may take in a child before it counts as a hang.
ALARM_S = 30
#: Largest source file mutated, bytes.
MAX_SOURCE = 400_000

CHILD = r"""
import json, os, resource, signal, sys, traceback, warnings
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import spectro
from spectro.errors import SpectroError

class Hang(Exception):
    pass

def alarm(signum, frame):
    raise Hang

signal.signal(signal.SIGALRM, alarm)
paths = json.loads(open(sys.argv[1]).read())
results = {}
for path in paths:
    print(path, flush=True, file=sys.stderr)
    signal.alarm(int(sys.argv[3]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spectro.read(path)
        results[path] = "read"
    except Hang:
        results[path] = "hang"
    except SpectroError as err:
        results[path] = "refused: " + str(err).splitlines()[0][:300]
    except BaseException as err:
        results[path] = "crash: " + "".join(traceback.format_exception_only(type(err), err)).strip()[:500]
    finally:
        signal.alarm(0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"results": results, "peak_bytes": peak}))
"""


def _sources(root: Path) -> list[list[Path]]:
    """The files to mutate, by kind (Athena projects, HDF5, XDI, the rest), so that each kind gets its share."""
    files = sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.name != "README.md" and p.stat().st_size <= MAX_SOURCE
    )
    kinds: dict[str, list[Path]] = {}
    for p in files:
        kind = p.suffix.lower() if p.suffix.lower() in (".prj", ".h5", ".xdi") else "other"
        kinds.setdefault(kind, []).append(p)
    return [kinds[k] for k in sorted(kinds)]


def _mutate_text(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(12)
    n = len(data)
    if n == 0:
        return b"\n"
    if kind == 10:  # deep nesting where a list opens
        k = max(data.find(b"("), data.find(b"["), 0)
        opening = data[k : k + 1] if data[k : k + 1] in (b"(", b"[") else b"["
        return data[:k] + opening * rng.randint(500, 100_000) + data[k:]
    if kind == 11:  # one very long line (up to 2 MB)
        a = rng.randrange(n)
        piece = data[a : a + rng.randint(1, 200)].replace(b"\n", b" ").replace(b"\r", b" ") or b"1"
        return data[:a] + piece * (rng.randint(1000, 2_000_000) // len(piece)) + data[a:]
    if kind == 0:  # flip bytes
        out = bytearray(data)
        for _ in range(rng.randint(1, 10)):
            out[rng.randrange(n)] = rng.randrange(256)
        return bytes(out)
    if kind == 1:  # cut short
        return data[: rng.randrange(n)]
    if kind == 2:  # repeat a slice
        a = rng.randrange(n)
        b = min(n, a + rng.randint(1, 5000))
        return data[:b] + data[a:b] * rng.randint(1, 5) + data[b:]
    if kind == 3:  # move a slice
        a = rng.randrange(n)
        b = min(n, a + rng.randint(1, 2000))
        rest = data[:a] + data[b:]
        c = rng.randrange(len(rest) + 1)
        return rest[:c] + data[a:b] + rest[c:]
    lines = data.split(b"\n")
    k = rng.randrange(len(lines))
    if kind == 4:  # drop lines
        del lines[k : k + rng.randint(1, 20)]
    elif kind == 5:  # double a line
        lines.insert(k, lines[k])
    elif kind == 6:  # garbage line
        lines.insert(k, bytes(rng.randrange(32, 127) for _ in range(rng.randint(1, 80))))
    elif kind == 7:  # a numeric row of another width
        lines.insert(k, b" ".join(b"%.4f" % rng.uniform(-1e4, 1e4) for _ in range(rng.randint(1, 9))))
    elif kind == 8:  # CR line endings
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    else:  # digits to commas
        out = bytearray(data)
        for _ in range(rng.randint(1, 30)):
            i = rng.randrange(n)
            if chr(out[i]).isdigit() or out[i] == ord("."):
                out[i] = ord(",")
        return bytes(out)
    return b"\n".join(lines)


def _mutant(data: bytes, rng: random.Random) -> bytes:
    if data[:2] == b"\x1f\x8b" and rng.random() < 0.7:
        try:
            inner = zlib.decompress(data, 16 + zlib.MAX_WBITS)
        except zlib.error:
            return _mutate_text(data, rng)
        return gzip.compress(_mutate_text(inner, rng), mtime=0)
    return _mutate_text(data, rng)


@pytest.fixture(scope="module")
def fuzz_results(data_dir, tmp_path_factory):
    rng = random.Random(SEED)
    sources = _sources(data_dir)
    folder = tmp_path_factory.mktemp("mutants")
    paths = []
    for i in range(N_MUTANTS):
        source = rng.choice(rng.choice(sources))
        path = folder / f"{i:03d}_{source.name}"
        path.write_bytes(_mutant(source.read_bytes(), rng))
        paths.append(str(path))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    children = []
    for k in range(N_CHILDREN):
        listing = folder / f"paths_{k}.json"
        listing.write_text(json.dumps(paths[k::N_CHILDREN]))
        children.append(subprocess.Popen(
            [sys.executable, "-c", CHILD, str(listing), str(MEMORY_LIMIT), str(ALARM_S)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        ))
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=N_MUTANTS * ALARM_S)
        last = err.strip().splitlines()[-1] if err.strip() else ""
        assert child.returncode == 0, f"a child died (code {child.returncode}) while reading {last}: {err[-2000:]}"
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return outputs


def test_every_mutant_is_read_or_refused_with_a_spectro_error(fuzz_results):
    results = {p: v for out in fuzz_results for p, v in out["results"].items()}
    assert len(results) == N_MUTANTS
    bad = {Path(p).name: v for p, v in results.items()
           if v.startswith(("crash", "hang")) or "needs more memory" in v}
    assert not bad, bad
    # the mutants are not all refused: the readers still read damaged but usable files
    assert sum(v == "read" for v in results.values()) > N_MUTANTS // 10


def test_memory_stays_bounded(fuzz_results):
    for out in fuzz_results:
        assert out["peak_bytes"] < MEMORY_LIMIT
