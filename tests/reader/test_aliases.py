"""Aliases: definitions from dicts and files, access, selection, listing and open_run's files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from extra_catalog import AliasError, SourceNameError
from extra_catalog.reader.aliases import AliasFileError, load_alias_file

XGM = "SA1_XTD2_XGM/DOOCS/MAIN"
MOTOR_X = "SPB_IRU_MOTORS/MOTOR/X"
CAM = "SPB_IRU_SIDEMIC_CAM/CAM/1:daqOutput"
RED_CROSS = "\033[91m✗\033[0m"

YAML = f"""\
sa1-xgm: {XGM}
SA1_Flux: [{XGM}, pulseEnergy.photonFlux]
{MOTOR_X}:
  motor-x: actualPosition
  motor-x-bad: nonexistent
missing-src: NOT/A/SOURCE
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from extra_catalog.testing import write_run

    path = tmp_path_factory.mktemp("aliases") / "r0001"
    write_run(path, n_trains=6, n_control_sources=1)
    return path


@pytest.fixture
def run(run_dir: Path):
    from extra_catalog import RunDirectory

    return RunDirectory(run_dir)


@pytest.fixture
def yaml_file(tmp_path: Path) -> Path:
    path = tmp_path / "aliases.yml"
    path.write_text(YAML)
    return path


def test_files_in_every_format_give_the_same_aliases(tmp_path: Path, yaml_file: Path) -> None:
    as_yaml = load_alias_file(yaml_file)
    (tmp_path / "a.json").write_text(json.dumps({
        "sa1-xgm": XGM, "SA1_Flux": [XGM, "pulseEnergy.photonFlux"],
        MOTOR_X: {"motor-x": "actualPosition", "motor-x-bad": "nonexistent"},
        "missing-src": "NOT/A/SOURCE"}))
    (tmp_path / "a.toml").write_text(
        f'sa1-xgm = "{XGM}"\nSA1_Flux = ["{XGM}", "pulseEnergy.photonFlux"]\n'
        'missing-src = "NOT/A/SOURCE"\n'
        f'["{MOTOR_X}"]\nmotor-x = "actualPosition"\nmotor-x-bad = "nonexistent"\n')
    assert load_alias_file(tmp_path / "a.json") == as_yaml
    assert load_alias_file(tmp_path / "a.toml") == as_yaml
    assert as_yaml["motor-x"] == (MOTOR_X, "actualPosition")


def test_bad_alias_files_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("a: 3\n")
    with pytest.raises(AliasFileError, match="unsupported literal type for alias 'a'"):
        load_alias_file(tmp_path / "bad.yml")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(AliasFileError, match="broken.json: not a valid JSON file"):
        load_alias_file(tmp_path / "broken.json")
    with pytest.raises(AliasFileError, match="must be .json, .yaml, .yml or .toml"):
        load_alias_file(tmp_path / "aliases.txt")


def test_access_by_alias_in_any_spelling(run, yaml_file: Path) -> None:
    data = run.with_aliases(yaml_file)
    assert data.alias["SA1_XGM"].source == XGM
    assert data.alias["sa1-flux"].key == "pulseEnergy.photonFlux.value"
    assert data.alias["sa1-xgm", "beamPosition.ixPos"].key == "beamPosition.ixPos.value"
    assert "motor-x" in data.alias and "MOTOR_X" in data.alias
    assert "motor-x-bad" not in data.alias and "missing-src" not in data.alias
    with pytest.raises(AliasError, match="'nothing' not known as alias"):
        data.alias["nothing"]
    with pytest.raises(ValueError, match="sa1-flux not aliasing a source"):
        data.alias["sa1-flux", "x"]
    with pytest.raises(SourceNameError):
        data.alias["missing-src"]
    with pytest.raises(TypeError):
        data.alias[3]
    assert str(data.alias) == "<extra_data.AliasIndexer with 5 aliases>"
    assert str(run.alias) == "<extra_data.AliasIndexer with 0 aliases>"


def test_conflicts_and_bad_definitions(run) -> None:
    data = run.with_aliases({"xgm": XGM})
    assert data.with_aliases({"XGM": XGM})._aliases == {"xgm": XGM}  # same meaning: fine
    with pytest.raises(ValueError, match="conflicting alias definition for xgm"):
        data.with_aliases({"X_G_M": MOTOR_X, "xgm": MOTOR_X})
    with pytest.raises(ValueError, match="alias definition by dict must be"):
        run.with_aliases({"x": 3})


def test_aliases_survive_selection_and_union(run, yaml_file: Path) -> None:
    data = run.with_aliases(yaml_file)
    for derived in (data.select("*XGM*"), data.select_trains(slice(0, 2)),
                    data.deselect("*MOTOR*"), next(data.split_trains(2))):
        assert derived._aliases == data._aliases
    joined = data.select("*XGM*") | run.with_aliases({"y": "SPB_IRU_MOTORS/MOTOR/Y"})
    assert set(joined._aliases) == set(data._aliases) | {"y"}
    assert joined.alias.file_paths() == [yaml_file]
    assert data.drop_aliases()._aliases == {}


def test_select_and_deselect_by_alias(run, yaml_file: Path) -> None:
    data = run.with_aliases(yaml_file)
    sel = data.alias.select("sa1-xgm", "beamPosition.*")
    assert sel.all_sources == {XGM}
    assert sel.keys_for_source(XGM) == {"beamPosition.ixPos.value", "beamPosition.ixPos.timestamp",
                                        "beamPosition.iyPos.value", "beamPosition.iyPos.timestamp"}
    sel = data.alias.select(["sa1-xgm", "motor-x"])
    assert sel.all_sources == {XGM, MOTOR_X}
    assert sel.keys_for_source(MOTOR_X) == {"actualPosition.value"}
    sel = data.alias.select({"sa1-xgm": set()})
    assert sel.all_sources == {XGM}
    assert XGM not in data.alias.deselect("sa1-xgm").all_sources


def test_only_aliases(run, yaml_file: Path) -> None:
    only = run.only_aliases(yaml_file)
    assert only.all_sources == {XGM, MOTOR_X}
    assert only.keys_for_source(MOTOR_X) == {"actualPosition.value"}
    assert len(only._aliases) == 5
    with pytest.raises(ValueError, match="No matches for pattern .'NOT/A/SOURCE'"):
        run.only_aliases(yaml_file, strict=True)


def test_listing(run, yaml_file: Path) -> None:
    assert repr(run.alias) == "No aliases have been loaded."
    data = run.with_aliases(yaml_file, {"cam": CAM, "cam-dims": (CAM, "data.image.dims"),
                                        "cam-px": (CAM, "data.image.pixels")})
    assert repr(data.alias).split("\n") == [
        f"Alias file: {yaml_file}", "",
        "Loaded aliases:",
        f"  sa1-flux: ({XGM}, pulseEnergy.photonFlux)", "",
        f"~ {MOTOR_X}:",
        "    motor-x: actualPosition",
        f"  {RED_CROSS} motor-x-bad: nonexistent", "",
        f"{RED_CROSS} missing-src: NOT/A/SOURCE", "",
        f"  cam ({CAM}):",
        "    cam-dims: data.image.dims",
        "    cam-px: data.image.pixels", ""]


def test_jhub_links_for_gpfs_paths(run) -> None:
    data = run.with_aliases({"xgm": XGM})
    data._alias_files = [Path("/gpfs/exfel/exp/SPB/202601/p900001/usr/extra-data-aliases.yml"),
                         Path("/home/me/aliases.yml")]
    assert data.alias.jhub_links() == {data._alias_files[0]: (
        "https://max-jhub.desy.de/hub/user-redirect/lab/tree/"
        "GPFS/exfel/exp/SPB/202601/p900001/usr/extra-data-aliases.yml")}
    assert repr(data.alias).startswith("Alias files:\n- https://max-jhub.desy.de/")


@pytest.fixture
def facility(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from extra_catalog.testing import write_run

    root = tmp_path / "exp"
    write_run(root / "SPB/202601/p900001/raw/r0001", n_trains=4, n_control_sources=1)
    (root / "SPB/202601/p900001/usr").mkdir()
    monkeypatch.setenv("EXTRA_DATA_DATA_ROOT", str(root))
    monkeypatch.setenv("EXTRA_DATA_SW_ROOT", str(tmp_path / "sw"))
    monkeypatch.setenv("EXTRA_CATALOG_URL", str(tmp_path / "none.sqlite"))
    monkeypatch.setenv("EXTRA_CATALOG_RECORD", "0")
    return root / "SPB/202601/p900001"


def test_open_run_loads_the_proposal_alias_file(facility: Path) -> None:
    from extra_catalog import open_run

    assert open_run(900001, 1)._aliases == {}  # neither the file nor a template
    (facility / "usr/extra-data-aliases.yml").write_text(f"xgm: {XGM}\n")
    run = open_run(900001, 1)
    assert run.alias["xgm"].source == XGM
    assert run.alias.file_paths() == [facility / "usr/extra-data-aliases.yml"]
    assert open_run(900001, 1, aliases=None)._aliases == {}
    other = facility / "usr/mine.json"
    other.write_text(json.dumps({"m": MOTOR_X}))
    assert set(open_run(900001, 1, aliases="{}/usr/mine.json")._aliases) == {"m"}


def test_open_run_copies_the_instrument_template(facility: Path, tmp_path: Path) -> None:
    from extra_catalog import open_run

    template = tmp_path / "sw/SPB/extra-data-aliases-default.yml"
    template.parent.mkdir(parents=True)
    template.write_text(f"xgm: {XGM}\n")
    run = open_run(900001, 1)
    copied = facility / "usr/extra-data-aliases.yml"
    assert copied.read_text() == template.read_text()
    assert os.stat(copied).st_mode & 0o777 == 0o666
    assert run.alias["xgm"].source == XGM
