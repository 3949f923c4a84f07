import json
import os
import signal
import sys
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

# A suite started in the background by a script (`cmd &`, nohup) inherits SIGINT ignored, and then
# Python raises no KeyboardInterrupt, neither here nor in the commands the tests start (children
# inherit an ignored signal): the Ctrl-C tests need SIGINT's default back.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The real ReasonMap station files and maps (stations/, maps/): $REWARDMAP_REAL_DATA, else the
# development machines' copy beside the checkout.
REAL = Path(os.environ.get("REWARDMAP_REAL_DATA") or Path(__file__).resolve().parents[2] / "shared/data/reasonmap")


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real ReasonMap station files and maps (skip when absent)."""
    if not (REAL / "stations").is_dir():
        pytest.skip(f"real ReasonMap data not found at {REAL}")
    return REAL


# A small city with every feature: a loop, a transfer hub, parallel lines sharing two
# consecutive stations (two equally optimal routes), and a station reachable only via two
# transfers.
TOY = {
    "Line 1": ["A Station", "B Station (Transfer Station)", "C Station (Transfer Station)", "D Station"],
    "Line 2": ["E Station", "B Station (Transfer Station)", "C Station (Transfer Station)", "F Station (Transfer Station)"],
    "Ring": ["F Station (Transfer Station)", "G Station", "H Station", "I Station", "J Station (Transfer Station)",
             "K Station", "F Station (Transfer Station)"],
    "Line 4": ["J Station (Transfer Station)", "L Station", "M Station"],
}


@pytest.fixture
def toy_file(tmp_path) -> Path:
    path = tmp_path / "stations" / "testland" / "toyville.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(TOY), encoding="utf-8")
    return path


# The evaluation tests' shared inputs; module scope, so each module builds its own and
# a module that needs other data defines its own `data`.
@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Two small synthetic cities with questions of every type (`commands.synth_data`)."""
    from commands import synth_data

    return synth_data(tmp_path_factory.mktemp("data") / "synth")


@pytest.fixture(scope="module")
def model(data, tmp_path_factory) -> Path:
    """A tiny Qwen2.5-VL that knows DATA's questions, saved to a folder (`commands.tiny_model`)."""
    from commands import tiny_model

    return tiny_model(data, tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(autouse=True)
def _fresh_reward_memos():
    """Each test reads answers afresh: the rewards and the answer readers memoise what they read
    (module-level lru_caches), and mutation testing forks every mutant from a process whose memos
    already hold the unmutated results, which would hide the mutants of each memoised function."""
    for name, module in list(sys.modules.items()):
        if name.startswith(("rewardmap.rewards.", "rewardmap.answers.")):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


@pytest.fixture
def ascii_locale():
    """The C locale's character set (ASCII) for what Python reads without naming an encoding."""
    import locale

    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    yield
    locale.setlocale(locale.LC_CTYPE, before)


@pytest.fixture
def station_file_reads(monkeypatch):
    """The station files read from disk while a test runs, in order."""
    from rewardmap.network import files as station_files

    calls = []
    real = station_files.load_station_file

    def counting(path, **kwargs):
        calls.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(station_files, "load_station_file", counting)
    return calls


@pytest.fixture
def toy_root(tmp_path):
    """A dataset folder holding the rewards tests' toy city (test_rewards.CITY) as its one station file."""
    from test_rewards import CITY

    path = tmp_path / "stations" / "toyland" / "toyburg.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(CITY, ensure_ascii=False), encoding="utf-8")
    return tmp_path
