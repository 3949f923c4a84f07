"""`data download` on copies laid out as the published ones are, the network replaced.

The Hub: `huggingface_hub.snapshot_download` copies from a local folder shaped like the Hub
dataset (`data/train.parquet`, `data/test.parquet`, README.md), honouring `allow_patterns`.
GitHub: `download.PUBLISHED` points at local git repositories shaped like fscdc/RewardMap
(`maps/<country>/<city>.png`) and fscdc/ReasonMap (`stations/<country>/<city>.json`), so the
real git fetch runs, over file:// instead of https://.
"""

from __future__ import annotations

import base64
import fnmatch
import io
import json
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import huggingface_hub
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from rewardmap.cli import app
from rewardmap.datasets import download
from rewardmap.datasets.download import Published, download_dataset
from rewardmap.errors import InputError

CITIES = {  # (country, city) -> station file
    ("testland", "tinyville"): {"Line 1": ["Alpha Station", "Beta Station (Transfer Station)", "Gamma Station"],
                                "Line 2": ["Beta Station (Transfer Station)", "Delta Station"]},
    ("testland", "otherton"): {"Red Line": ["North", "Centre (Transfer Station)", "South"],
                               "Blue Line": ["Centre (Transfer Station)", "East"]},
    ("elsewhere", "unasked"): {"Only Line": ["One", "Two"]},  # published, asked by no record
}


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (seed * 40 % 256, 90, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def git(*args, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def git_repository(folder: Path, files: dict[str, bytes]) -> str:
    """A repository holding FILES in one commit, served as GitHub serves it (partial fetches)."""
    for relative, data in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    git("init", "--quiet", cwd=folder)
    git("add", "-A", cwd=folder)
    git("-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit", "--quiet", "-m", "init",
        cwd=folder)
    git("config", "uploadpack.allowFilter", "true", cwd=folder)
    return git("rev-parse", "HEAD", cwd=folder)


@pytest.fixture
def github(tmp_path, monkeypatch) -> dict[str, Path]:
    """The two GitHub repositories, with every city's map and station file."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    maps = {f"maps/{country}/{city}.png": png(i) for i, (country, city) in enumerate(CITIES)}
    stations = {f"stations/{country}/{city}.json": json.dumps(obj, indent=4).encode()
                for (country, city), obj in CITIES.items()}
    return local_github(maps | {"README.md": b"RewardMap\n", "utils/a.py": b"x = 1\n"},
                        stations | {"README.md": b"ReasonMap\n"}, tmp_path, monkeypatch)


def local_github(maps: dict[str, bytes], stations: dict[str, bytes], tmp_path: Path, monkeypatch) -> dict[str, Path]:
    """fscdc/RewardMap holding MAPS and fscdc/ReasonMap holding STATIONS ({path: bytes}), as git
    repositories under TMP_PATH/github that `download.PUBLISHED` points at over file://."""
    repos = {"maps": tmp_path / "github/RewardMap", "stations": tmp_path / "github/ReasonMap"}
    sha = {"maps": git_repository(repos["maps"], maps), "stations": git_repository(repos["stations"], stations)}
    monkeypatch.setattr(download, "PUBLISHED", {
        folder: Published(f"fscdc/{repos[folder].name}", sha[folder], f"file://{repos[folder]}") for folder in repos})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # where the CLI keeps fetched files
    return repos


def row(city: str, qtype: str = "Counting3", country: str = "testland", **extra) -> dict:
    """A ReasonMap-Plus / -Train row as published: the map and station file named by path."""
    base = {"country": country, "city": city, "figure": f"./maps/{country}/{city}.png",
            "json": f"./stations/{country}/{city}.json", "question": f"How many lines are there in {city}?",
            "answer": 2, "type": qtype, "station_1": None, "station_2": None, "difficulty_city": "easy",
            "city_line_count": 2, "city_transfer_count": 1}
    return base | extra


TRAIN_ROWS = [row("tinyville"), row("otherton", "TorF1", answer=1),
              row("tinyville", "planning", answer=-1, question="How do I get from Alpha Station to Delta Station?",
                  station_1="Alpha Station", station_2="Delta Station", question_transfer_count=1,
                  routes=json.dumps({"p": [{"route_name": "Line 2", "departure_stop": "Beta Station",
                                            "arrival_stop": "Delta Station"}]}))]


@pytest.fixture
def hub(tmp_path, monkeypatch) -> dict[str, Path]:
    """Local copies of the Hub datasets; `snapshot_download` copies the files a call asks for."""
    repos = {"FSCCS/ReasonMap-Train": {"data/train.parquet": TRAIN_ROWS},
             "FSCCS/ReasonMap-Plus": {"data/train.parquet": [row("tinyville"), row("tinyville", "TorF1", answer=0)],
                                      "data/test.parquet": [row("otherton"), row("otherton", "Counting2")]}}
    return local_hub(repos, tmp_path, monkeypatch)


def local_hub(repos: dict[str, dict[str, list[dict]]], tmp_path: Path, monkeypatch) -> dict[str, Path]:
    """REPOS ({repo id: {file: rows}}) written as parquet under TMP_PATH/hub; `snapshot_download`
    copies the files a call asks for into a fresh snapshot, `list_repo_files` lists them."""
    folders = {}
    for repo, files in repos.items():
        folder = folders[repo] = tmp_path / "hub" / repo
        for name, rows in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            write_parquet(rows, folder / name)
        (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n")

    def snapshot_download(repo_id, repo_type, allow_patterns=None, **kwargs):
        assert repo_type == "dataset"
        (tmp_path / "hf-cache").mkdir(exist_ok=True)
        snapshot = Path(tempfile.mkdtemp(dir=tmp_path / "hf-cache"))  # a fresh snapshot per call
        for path in sorted(p for p in folders[repo_id].rglob("*") if p.is_file()):
            name = path.relative_to(folders[repo_id]).as_posix()
            if allow_patterns is None or any(fnmatch.fnmatch(name, pattern) for pattern in allow_patterns):
                (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, snapshot / name)
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr(huggingface_hub, "list_repo_files", lambda repo, **kwargs: sorted(
        p.relative_to(folders[repo]).as_posix() for p in folders[repo].rglob("*") if p.is_file()))
    return folders


def write_parquet(rows: list[dict], path: Path) -> None:
    keys = list(dict.fromkeys(key for r in rows for key in r))  # from_pylist keeps the first row's keys only
    pq.write_table(pa.Table.from_pylist([{key: r.get(key) for key in keys} for r in rows]), path)


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "questions.jsonl").read_text(encoding="utf-8").splitlines()]


def files_of(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def no_network(*args, **kwargs):
    raise AssertionError("fetched files that are already at hand")


def test_train_download_brings_every_map_and_station_file(tmp_path, hub, github):
    out, cache = tmp_path / "train", tmp_path / "cache"
    summary = download_dataset("reasonmap-train", out, files_cache=cache)

    rows = records(out)
    assert len(rows) == 3 and summary.lacking == 0 and summary.instruction is None and not summary.missing
    assert summary.warnings == [] and rows[2]["routes"][0][0]["route_name"] == "Line 2"
    for record in rows:  # each record's files are under OUT, as published, byte for byte
        country, city = record["country"], record["city"]
        assert (out / record["figure"]).read_bytes() == (github["maps"] / f"maps/{country}/{city}.png").read_bytes()
        assert (out / record["json"]).read_bytes() == \
            (github["stations"] / f"stations/{country}/{city}.json").read_bytes()
    # Only the files the records name were fetched, into one folder per repository and commit.
    assert summary.fetched == {"maps": 2, "stations": 2}
    assert "fetched: 2 maps/ files from file://" in summary.describe()
    sha = {folder: download.PUBLISHED[folder].commit[:12] for folder in ("maps", "stations")}
    assert files_of(cache) == [
        f"fscdc+ReasonMap@{sha['stations']}/stations/testland/otherton.json",
        f"fscdc+ReasonMap@{sha['stations']}/stations/testland/tinyville.json",
        f"fscdc+RewardMap@{sha['maps']}/maps/testland/otherton.png",
        f"fscdc+RewardMap@{sha['maps']}/maps/testland/tinyville.png"]

    shutil.rmtree(tmp_path / "github")  # a second download reads them from the cache
    again = download_dataset("reasonmap-train", tmp_path / "again", files_cache=cache)
    assert again.fetched == {} and again.lacking == 0 and len(records(tmp_path / "again")) == 3


def test_plus_test_split_fetches_that_split_only(tmp_path, hub, github):
    summary = download_dataset("reasonmap-plus", tmp_path / "plus-test", split="test", files_cache=tmp_path / "c")
    assert [r["city"] for r in records(tmp_path / "plus-test")] == ["otherton", "otherton"]
    assert summary.fetched == {"maps": 1, "stations": 1} and summary.lacking == 0
    assert all("tinyville" not in name for name in files_of(tmp_path / "c"))


def test_a_file_published_nowhere_gives_one_line_to_act_on(tmp_path, hub, github):
    table = pq.read_table(hub["FSCCS/ReasonMap-Train"] / "data/train.parquet").to_pylist()
    write_parquet(table + [row("atlantis")], hub["FSCCS/ReasonMap-Train"] / "data/train.parquet")
    out = tmp_path / "train"
    runner = CliRunner()
    result = runner.invoke(app, ["data", "download", "reasonmap-train", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "imported 4 records" in result.stdout and "fetched: 2 maps/ files" in result.stdout
    [line] = result.stderr.splitlines()  # one line, naming what, from where, where to and what to run
    maps, stations = download.PUBLISHED["maps"], download.PUBLISHED["stations"]
    assert line.startswith("warning: 1 record(s) lack their map or station file: ")
    assert f"maps/ from {maps.url} at commit {maps.commit[:7]}" in line
    assert f"stations/ from {stations.url} at commit {stations.commit[:7]}" in line
    assert "DIR/maps/testland/atlantis.png; missing: ./maps/testland/atlantis.png, " \
           "./stations/testland/atlantis.json)" in line
    command = line.split("then run: ")[1]
    assert command == f"rewardmap data download reasonmap-train --out {out} --search-dir DIR --overwrite"

    # Doing what it says completes the dataset.
    folder = tmp_path / "by-hand"
    (folder / "maps/testland").mkdir(parents=True)
    (folder / "stations/testland").mkdir(parents=True)
    (folder / "maps/testland/atlantis.png").write_bytes(png(9))
    (folder / "stations/testland/atlantis.json").write_text(json.dumps(CITIES[("testland", "otherton")]))
    args = [str(folder) if arg == "DIR" else arg for arg in shlex.split(command)[1:]]
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert "fetched" not in result.stdout  # the other files came from the cache
    assert all((out / r["figure"]).is_file() and (out / r["json"]).is_file() for r in records(out))
    assert (out / records(out)[3]["figure"]).read_bytes() == png(9)


def test_unreachable_github_strict_writes_nothing(tmp_path, hub, github):
    for folder, published in download.PUBLISHED.items():  # e.g. no route to github.com
        download.PUBLISHED[folder] = Published(published.repo, published.commit, f"file://{tmp_path}/gone/{folder}")
    out, cache = tmp_path / "train", tmp_path / "cache"

    with pytest.raises(InputError) as e:
        download_dataset("reasonmap-train", out, strict=True, files_cache=cache)
    message = str(e.value)
    assert message.startswith("4 map or station file(s) not found (could not fetch maps/ from file://")
    assert "does not appear to be a git repository" in message and "\n" not in message
    assert message.endswith(f"then run: rewardmap data download reasonmap-train --out {out} --search-dir DIR --strict")
    assert not out.exists() and files_of(cache) == [] and list(cache.iterdir()) == []  # no scratch repository left

    summary = download_dataset("reasonmap-train", out, files_cache=cache)  # without --strict: imported, and said
    assert summary.lacking == 3 and summary.instruction.startswith("3 record(s) lack their map or station file "
                                                                   "(could not fetch maps/ from")
    assert len(records(out)) == 3 and not (out / "maps").exists()


def test_without_git_the_line_says_so(tmp_path, hub, github, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    summary = download_dataset("reasonmap-train", tmp_path / "out", files_cache=tmp_path / "cache")
    assert "(could not fetch maps/ from file://" in summary.instruction
    assert "git is not installed" in summary.instruction and summary.lacking == 3


def test_files_under_a_search_dir_are_not_fetched(tmp_path, hub, github, monkeypatch):
    local = tmp_path / "offline-copy"
    shutil.copytree(github["maps"] / "maps", local / "maps")
    shutil.copytree(github["stations"] / "stations", local / "stations")

    monkeypatch.setattr(download, "_git_fetch_files", no_network)
    summary = download_dataset("reasonmap-train", tmp_path / "out", search_dirs=[local], strict=True,
                               files_cache=tmp_path / "cache")
    assert summary.lacking == 0 and summary.fetched == {} and not (tmp_path / "cache").exists()
    assert [(tmp_path / "out" / r["json"]).read_bytes() for r in records(tmp_path / "out")][:2] == [
        (local / f"stations/testland/{city}.json").read_bytes() for city in ("tinyville", "otherton")]


def test_reasonmap_holds_its_files_and_names_its_splits(tmp_path, monkeypatch):
    """FSCCS/ReasonMap: maps as base64 and station data inline, so nothing is fetched; its
    evaluation split is `validation`, and asking for `test` says which files there are."""
    image = png(3)
    source = tmp_path / "hub/FSCCS/ReasonMap/data"
    source.mkdir(parents=True)
    station = CITIES[("testland", "tinyville")]
    route = {"country": "testland", "city": "tinyville", "figure": base64.b64encode(image).decode(),
             "json": json.dumps(station), "question_short": "From Alpha Station to Delta Station?",
             "station_1": "Alpha Station", "station_2": "Delta Station", "difficulty_city": "easy",
             "routes": json.dumps({"p": [{"route_name": "Line 1", "departure_stop": "Alpha Station",
                                          "arrival_stop": "Beta Station"}]})}
    for name in ("train", "validation"):
        write_parquet([route], source / f"reasonmap-1008-{name}.parquet")

    def snapshot_download(repo_id, repo_type, allow_patterns=None, **kwargs):
        snapshot = tmp_path / "hf-cache" / (allow_patterns or ["all"])[0].strip("*")
        for path in source.glob("*.parquet"):
            if allow_patterns is None or fnmatch.fnmatch(path.name, allow_patterns[0]):
                (snapshot / "data").mkdir(parents=True, exist_ok=True)
                shutil.copy(path, snapshot / "data" / path.name)
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr(huggingface_hub, "list_repo_files", lambda repo, **kwargs: [
        ".gitattributes", "data/reasonmap-1008-train.parquet", "data/reasonmap-1008-validation.parquet"])
    monkeypatch.setattr(download, "fetch_published", no_network)
    monkeypatch.setattr(download, "unresolved_paths", no_network)  # no pass over gigabytes of inline maps

    summary = download_dataset("reasonmap", tmp_path / "rm", split="validation")
    [record] = records(tmp_path / "rm")
    assert summary.lacking == 0 and (tmp_path / "rm" / record["figure"]).read_bytes() == image
    assert json.loads((tmp_path / "rm" / record["json"]).read_text()) == station
    with pytest.raises(InputError, match=r"^FSCCS/ReasonMap: no file of split 'test' on the Hugging Face Hub; "
                       r"it has data/reasonmap-1008-train\.parquet, data/reasonmap-1008-validation\.parquet$"):
        download_dataset("reasonmap", tmp_path / "rm-test", split="test")
    assert not (tmp_path / "rm-test").exists()


def test_real_rome_files_fetched_as_published(tmp_path, hub, monkeypatch, real_data):
    """The real Rome map and station file, in repositories laid out as the authors' are."""
    files = {"maps": {"maps/italy/rome.png": (real_data / "maps/italy/rome.png").read_bytes()},
             "stations": {"stations/italy/rome.json": (real_data / "stations/italy/rome.json").read_bytes()}}
    published = {}
    for folder, content in files.items():
        repo = tmp_path / "github" / folder
        published[folder] = Published(f"fscdc/{folder}", git_repository(repo, content), f"file://{repo}")
    monkeypatch.setattr(download, "PUBLISHED", published)
    rome = {"country": "italy", "figure": "./maps/italy/rome.png", "json": "./stations/italy/rome.json"}
    write_parquet([row("rome", **rome), row("rome", "TorF1", answer=1, **rome)],
                  hub["FSCCS/ReasonMap-Train"] / "data/train.parquet")

    summary = download_dataset("reasonmap-train", tmp_path / "out", strict=True, files_cache=tmp_path / "cache")
    out = tmp_path / "out"
    assert summary.fetched == {"maps": 1, "stations": 1} and summary.maps_written == 1
    assert files_of(out) == ["maps/italy/rome.png", "questions.jsonl", "stations/italy/rome.json"]
    assert (out / "maps/italy/rome.png").read_bytes() == files["maps"]["maps/italy/rome.png"]
    assert (out / "stations/italy/rome.json").read_bytes() == files["stations"]["stations/italy/rome.json"]
