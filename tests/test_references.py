"""Reference catalogue, local lookup by sha256, downloads, ``spectro refs``."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import json
import math
import os
import re
import threading
from pathlib import Path

import pytest

from spectro import references
from spectro.cli import main
from spectro.errors import ReferenceNotFoundError
from spectro.references import files


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty data folder and cache: nothing can be found locally."""
    data = tmp_path / "data"
    cache = tmp_path / "cache"
    data.mkdir()
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data))
    monkeypatch.setattr(files, "cache_dir", lambda: cache)
    return data, cache


@pytest.fixture
def server(tmp_path):
    """A static HTTP server on 127.0.0.1 serving a temporary folder."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _publish(root: Path, ref: references.Reference, content: bytes) -> None:
    target = root / ref.repository / ref.commit / ref.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


# --- the catalogue -----------------------------------------------------------------


def test_catalogue_entries_are_complete_and_unique():
    refs = references.catalogue()
    assert len({r.id for r in refs}) == len(refs)
    assert len({(r.sha256, r.group) for r in refs}) == len(refs)
    for r in refs:
        assert re.fullmatch(r"[0-9a-f]{64}", r.sha256), r.id
        assert re.fullmatch(r"[0-9a-f]{40}", r.commit), r.id
        assert r.repository.count("/") == 1 and r.path and r.file, r.id
        assert r.licence and r.attribution, r.id
        assert r.kind in ("xanes", "xes") and r.element in ("Ni", "Mn"), r.id
        assert r.spin_state in ("high", "low", ""), r.id
        assert r.valence_anchor or r.anchor_reason, f"{r.id}: a non-anchor needs its reason"
        assert not r.valence_anchor or math.isfinite(r.valence), f"{r.id}: an anchor needs a valence"


def test_catalogue_holds_the_textbook_facts():
    nio = references.get("ceric_nio_300k")
    assert (nio.valence, nio.spin_state, nio.spin) == (2.0, "high", 1.0)
    assert "rocksalt" in nio.structure
    lno = references.get("ceric_lanio3_80k")
    assert (lno.valence, lno.spin_state, lno.spin) == (3.0, "low", 0.5)
    assert "R-3c" in lno.structure and lno.temperature == "80 K"
    assert all(r.valence == 0 and "fcc" in r.structure for r in references.find(compound="Ni metal"))
    mn3o4 = references.get("advxafs_mn3o4")
    assert mn3o4.valence == pytest.approx(8 / 3, abs=1e-3) and mn3o4.spin_state == "high"
    assert references.get("advxafs_mn2o3").spin == 2.0


def test_suspect_ni2o3_is_not_an_anchor():
    ni2o3 = references.find(compound="Ni2O3")
    assert len(ni2o3) == 3
    assert not any(r.valence_anchor for r in ni2o3)
    assert all("Ni(OH)2" in r.anchor_reason for r in ni2o3)


def test_find_filters_combine():
    ids = {r.id for r in references.find(element="ni", valence=2, anchor=True)}
    assert ids == {"ceric_nio_300k", "larch_nio_x23a2", "bmm_nio_6bm"}
    assert all(r.kind == "xes" and r.element == "Mn" for r in references.find(kind="xes"))
    low = references.find(element="Ni", spin_state="low")
    assert low == (references.get("ceric_lanio3_80k"), references.get("bmm_lanio3_6bm"))


def test_get_unknown_id_names_close_matches():
    with pytest.raises(ReferenceNotFoundError, match="ceric_nio_300k"):
        references.get("ceric_nio")


def test_url_is_pinned_and_quoted():
    ref = references.get("xasref_ni_foil_qas_mu")
    assert ref.url() == (
        "https://raw.githubusercontent.com/Ameyanagi/xasref/"
        "74d1e795855055c7731da406b276bd50b27aafff/xasref/foil/Ni%20foil%20Ni%20K.dat"
    )
    assert ref.url("http://mirror/").startswith("http://mirror/Ameyanagi/xasref/")


def test_to_dict_is_json_ready():
    entry = references.get("larch_fenis20_13bmd").to_dict()
    assert entry["valence"] is None
    assert json.loads(json.dumps(entry, allow_nan=False)) == entry


# --- the real files ------------------------------------------------------------------


@pytest.mark.realdata
def test_every_entry_is_found_by_sha256(data_dir, monkeypatch):
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    for ref in references.catalogue():
        found = references.path(ref.id, download=False)
        assert hashlib.sha256(found.read_bytes()).hexdigest() == ref.sha256
        assert found.name == ref.file


@pytest.mark.realdata
def test_catalogue_covers_the_ni_and_mn_spectra(data_dir):
    known = {r.sha256 for r in references.catalogue()}
    spectra = [
        p for sub in ("xanes", "xes") for p in sorted((data_dir / sub).iterdir()) if p.suffix != ".txt"
    ]
    assert len(spectra) >= 20
    missing = [p.name for p in spectra if files.sha256(p) not in known]
    assert not missing


@pytest.mark.realdata
def test_xdi_entries_agree_with_their_headers(data_dir, monkeypatch):
    """Date, facility, beamline and temperature of each XDI entry as its header records them."""
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    entries = [r for r in references.catalogue() if r.file.endswith(".xdi")]
    assert len(entries) >= 16
    for ref in entries:
        header = references.load(ref.id, download=False).attrs
        assert header["Scan.start_time"].startswith(ref.measured) and ref.measured, ref.id
        assert header.get("Facility.name", ref.facility) == ref.facility, ref.id
        assert ref.beamline in header["Beamline.name"], ref.id
        recorded = header.get("Sample.temperature")
        assert recorded is None or recorded.lower() == ref.temperature.lower(), ref.id


def test_second_beamline_anchors_and_their_caveats():
    anchors = {r.id for r in references.find(element="Ni", anchor=True) if r.id.startswith("bmm_")}
    assert anchors == {"bmm_nio_6bm", "bmm_lanio3_6bm"}
    borate = references.get("bmm_ni_borate_hydrate_6bm")
    assert math.isnan(borate.valence) and "unverified" in borate.anchor_reason
    foil = references.get("bmm_ni_foil_6bm")
    assert foil.valence == 0 and "reference position" in foil.mode and "metal" in foil.anchor_reason
    dac = references.find(element="Mn", kind="xanes", compound="MnLa30min")
    assert [r.group for r in dac] == ["pinitial", "p20"] and not any(r.valence_anchor for r in dac)


@pytest.mark.realdata
def test_load_selects_the_athena_group(data_dir, monkeypatch):
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    ds = references.load("larch_nio_x23a2", download=False)
    assert [s.strip() for s in ds.scan.values.astype(str)] == ["NiO"]
    assert int(ds.mu.notnull().sum()) == ds.sizes["energy"]
    assert ds.attrs["reference_valence"] == 2.0
    assert "Newville" in ds.attrs["reference_attribution"]


@pytest.mark.realdata
def test_load_single_file_reference(data_dir, monkeypatch):
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    ds = references.load("ceric_lanio3_80k", download=False)
    assert ds.sizes["scan"] == 1 and "mu_ref" in ds
    assert ds.attrs["reference_id"] == "ceric_lanio3_80k"


# --- lookup order and hashing -----------------------------------------------------------


def _fake(ref_id: str, content: bytes) -> references.Reference:
    return dataclasses.replace(references.get(ref_id), sha256=hashlib.sha256(content).hexdigest())


def test_found_by_hash_under_another_name(isolated):
    data, _ = isolated
    content = b"# not really a spectrum\n1 2\n"
    ref = _fake("ceric_nio_300k", content)
    (data / "deep" / "er").mkdir(parents=True)
    (data / "deep" / "er" / "renamed.txt").write_bytes(content)
    (data / "other.txt").write_bytes(b"something else")
    assert files.locate(ref) == data / "deep" / "er" / "renamed.txt"


def test_data_dir_comes_before_cache(isolated):
    data, cache = isolated
    content = b"abc\n"
    ref = _fake("ceric_nio_300k", content)
    cached = cache / ref.sha256[:16] / Path(ref.path).name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(content)
    assert files.locate(ref) == cached
    (data / ref.file).write_bytes(content)
    assert files.locate(ref) == data / ref.file


def test_wrong_content_under_the_right_name_is_rejected(isolated):
    data, _ = isolated
    ref = references.get("ceric_nio_300k")
    (data / ref.file).write_bytes(b"tampered")
    assert files.locate(ref) is None


def test_hashes_are_cached_until_the_file_changes(tmp_path, monkeypatch):
    p = tmp_path / "f.dat"
    p.write_bytes(b"one")
    first = files.sha256(p)
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(files.hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    assert files.sha256(p) == first and not calls
    p.write_bytes(b"two, longer")
    assert files.sha256(p) == hashlib.sha256(b"two, longer").hexdigest() and calls


def test_not_found_offline_says_what_to_do(isolated):
    with pytest.raises(ReferenceNotFoundError) as info:
        references.path("ceric_lanio3_80k", download=False)
    message = str(info.value)
    assert "SPECTRO_DATA_DIR" in message
    assert "spectro refs fetch ceric_lanio3_80k" in message
    assert "ceric_LaNiO3_Ni_80K_111.xdi" in message


def test_download_failure_is_a_reference_error(isolated, server):
    _, url = server  # the server has nothing: 404
    ref = references.get("ceric_nio_300k")
    with pytest.raises(ReferenceNotFoundError, match="could not be downloaded"):
        references.path(ref.id, base_url=url)


# --- downloads from a local server ---------------------------------------------------------------


def test_download_verifies_and_caches(isolated, server):
    _, cache = isolated
    root, url = server
    content = b"# spectrum\n8330 0.1\n8340 1.0\n"
    ref = _fake("xasref_ni_foil_qas_mu", content)
    _publish(root, ref, content)
    got = files.download(ref, base_url=url)
    assert got.read_bytes() == content
    assert got.is_relative_to(cache) and got.name == "Ni foil Ni K.dat"
    assert files.locate(ref) == got


def test_download_rejects_a_wrong_hash(isolated, server):
    root, url = server
    ref = _fake("ceric_nio_300k", b"expected content")
    _publish(root, ref, b"other content")
    with pytest.raises(ReferenceNotFoundError, match="could not be downloaded"):
        files.download(ref, base_url=url)
    assert files.locate(ref) is None


@pytest.mark.realdata
def test_fetch_real_file_from_local_mirror(isolated, server, data_file):
    root, url = server
    ref = references.get("ceric_nio_300k")
    _publish(root, ref, data_file("xanes/ceric_NiO_111.xdi").read_bytes())
    paths = references.fetch([ref.id], base_url=url)
    assert files.sha256(paths[ref.id]) == ref.sha256
    assert references.path(ref.id, download=False) == paths[ref.id]


def test_download_is_capped_in_size(isolated, server):
    _, cache = isolated
    root, url = server
    content = b"0123456789" * 1000
    ref = _fake("ceric_nio_300k", content)
    _publish(root, ref, content)
    with pytest.raises(ReferenceNotFoundError, match="more than the limit of 5000"):
        files.download(ref, base_url=url, max_bytes=5000)
    assert not [p for p in cache.rglob("*") if p.is_file()]  # nothing kept, no temporary left
    assert files.download(ref, base_url=url, max_bytes=len(content)).read_bytes() == content


# --- the index of a data folder ---------------------------------------------------------------


def _counting(monkeypatch):
    """The files hashed from now on (hashlib.sha256() started empty, then fed block by block)."""
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(files.hashlib, "sha256", lambda *a: (None if a else calls.append(1)) or real(*a))
    return calls


def test_data_folder_is_hashed_once_and_again_only_where_it_changed(isolated, monkeypatch):
    data, _ = isolated
    for i in range(5):
        (data / f"f{i}.dat").write_bytes(f"file {i}".encode())
    ref = _fake("ceric_nio_300k", b"file 3")
    assert files.locate(ref) == data / "f3.dat"
    files._DIGESTS.clear()  # as in a new process: only the index on disk is left
    calls = _counting(monkeypatch)
    assert files.locate(ref) == data / "f3.dat" and not calls
    other = _fake("ceric_nio_300k", b"file 4")
    assert files.locate(other) == data / "f4.dat" and len(calls) == 1  # f4: not hashed before (f3 matched first)
    calls.clear()
    (data / "f0.dat").write_bytes(b"file 0, changed")
    (data / "new.dat").write_bytes(b"file 5")
    assert files.locate(_fake("ceric_nio_300k", b"file 5")) == data / "new.dat"
    assert len(calls) == 2  # the changed file and the new one, nothing else
    calls.clear()
    (data / "f3.dat").unlink()
    assert files.locate(ref) is None and not calls


def test_bytes_changed_after_the_lookup_are_refused(isolated, monkeypatch):
    data, _ = isolated
    target = data / "NiO.xdi"
    target.write_bytes(b"good bytes")
    ref = _fake("ceric_nio_300k", b"good bytes")
    monkeypatch.setattr(references, "get", lambda id: ref)
    assert references.path(ref.id, download=False) == target
    st = target.stat()
    target.write_bytes(b"evil bytes")  # same size, same modification time: the index cannot tell
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert files.locate(ref) == target
    with pytest.raises(ReferenceNotFoundError, match="changed after it was found"):
        references.load(ref.id, download=False)


# --- the command line ---------------------------------------------------------------------


def test_cli_list_json(capsys):
    assert main(["refs", "list", "--element", "Ni", "--valence", "3", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {e["id"] for e in listed} == {r.id for r in references.find(element="Ni", valence=3)}
    assert all(e["valence"] == 3 for e in listed)


def test_cli_list_table_and_spin_filter(capsys):
    assert main(["refs", "list", "--spin", "low"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["id", "kind"]
    assert {line.split()[0] for line in lines[1:]} == {r.id for r in references.find(spin_state="low")}


def test_cli_show(capsys):
    assert main(["refs", "show", "xaslib_ni2o3_ssrl41_01"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"valence_anchor\s+no", out)
    assert "Ni(OH)2" in out and "raw.githubusercontent.com" in out


def test_cli_unknown_id_is_one_error_line(capsys):
    assert main(["refs", "show", "unobtainium"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")


def test_cli_path_offline_fails_cleanly(isolated, capsys):
    assert main(["refs", "path", "ceric_nio_300k"]) == 2
    assert "spectro refs fetch ceric_nio_300k" in capsys.readouterr().err


@pytest.mark.realdata
def test_cli_path_and_fetch_use_local_files(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    assert main(["refs", "path", "ceric_nio_300k"]) == 0
    assert Path(capsys.readouterr().out.strip()) == data_dir / "xanes" / "ceric_NiO_111.xdi"
    assert main(["refs", "fetch", "ceric_nio_300k", "advxafs_mn2o3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in out] == ["ceric_nio_300k", "advxafs_mn2o3"]


# --- the installed wheel ------------------------------------------------------------------------


@pytest.mark.slow
def test_wheel_ships_the_catalogue(tmp_path):
    """Build a wheel offline, install it with --no-deps into a fresh venv, list the catalogue.

    The fresh venv borrows the dependencies of the running environment through a
    ``.pth`` line (which does not run that environment's editable-install hooks),
    so the spectro it imports is the installed wheel, not the checkout.
    """
    import shutil
    import subprocess
    import sys
    import sysconfig
    import venv
    import zipfile

    source = tmp_path / "source"
    shutil.copytree(
        Path(__file__).resolve().parents[1],
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache", "_build",
        ),
    )
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(wheels), str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )
    (wheel,) = wheels.glob("spectro-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        shipped = zf.read("spectro/references/catalogue.csv")
    assert shipped == (source / "references" / "catalogue.csv").read_bytes()
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(site, "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True,
    )
    out = subprocess.run(
        [str(env_dir / "bin" / "spectro"), "refs", "list", "--json"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    )
    listed = json.loads(out.stdout)
    assert [e["id"] for e in listed] == [r.id for r in references.catalogue()]
    where = subprocess.run(
        [str(python), "-c", "import spectro.references as r; print(r.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout
    assert where.startswith(site), "the installed wheel, not the checkout, must be imported"
