# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when it is
# absent and install the project into it first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo
# Installed before anything that depends on it: this exact version is a CPU build on the
# development machines; on a GPU machine set TORCH to the build you want.
TORCH ?= torch==2.13.0

.PHONY: install demo data-demo tiny-base check-verl check-core test bench mutation clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The default recipe, offline on a CPU: synthetic maps, GRPO on the curriculum from the shipped
# tiny-base model, held-out evaluation before and after, report (runs/tiny/report.md). --resume: a
# second `make demo` continues or re-reports the same run instead of refusing to overwrite it.
demo: $(STAMP)
	OMP_NUM_THREADS=1 $(VENV)/bin/rewardmap train --resume

# Train the shipped tiny-base model again from its built-in recipe and put it in the package
# (with its provenance: settings, data seed, file hashes). Not part of the demo.
tiny-base: $(STAMP)
	OMP_NUM_THREADS=1 $(VENV)/bin/rewardmap train tiny-base --out runs/tiny-base --resume
	$(PY) -m rewardmap.train.ship runs/tiny-base

# rewardmap's reward loaded and run by verl itself, in an environment of its own (.venv-verl:
# verl 0.9.1 and its dependencies; rewardmap's code without its dependencies), configured as
# docs/data.md says: integrations/verl_reward.py scores a drawn dataset's reference answers through it.
VERL ?= verl==0.9.1
check-verl: $(STAMP)
	test -x .venv-verl/bin/python || $(PYTHON) -m venv .venv-verl
	.venv-verl/bin/python -m pip install --quiet $(TORCH) $(VERL)
	.venv-verl/bin/python -m pip install --quiet --no-deps -e .
	$(VENV)/bin/rewardmap data synth --cities 3 --seed 0 --size 256 --per-city 12 --out .verl-check --overwrite
	.venv-verl/bin/python integrations/verl_reward.py .verl-check

# The light core alone (`pip install rewardmap`, no extras: no torch, transformers, TRL) in an
# environment of its own (.venv-core): data, scoring, API evaluation and compare work, and the
# commands that need an extra name it (tests/test_core_only.py).
check-core:
	test -x .venv-core/bin/python || $(PYTHON) -m venv .venv-core
	.venv-core/bin/python -m pip install --quiet -e . 'pytest>=8'
	REWARDMAP_CORE_ONLY=1 OMP_NUM_THREADS=1 .venv-core/bin/python -m pytest -p no:cacheprovider tests/test_core_only.py

data-demo: $(STAMP)
	$(VENV)/bin/rewardmap data synth --cities 6 --seed 0 --size 1024 --per-city 50 --out $(DEMO_DIR) --overwrite
	$(VENV)/bin/rewardmap data check $(DEMO_DIR)

test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2

bench: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_build.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_rewards.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_score.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_train.py

# Mutation testing (mutmut), each package against its own tests: mutation/<package>.json holds the
# counts and every surviving mutant's diff. About an hour on two cores; `make mutation PACKAGES=curriculum`
# runs one package.
PACKAGES ?=
mutation: $(STAMP)
	$(PY) -m pip install --quiet 'mutmut>=3.3,<4'
	$(PY) tools/mutation.py $(PACKAGES)

clean:
	rm -rf $(VENV) .venv-verl .venv-core .verl-check $(DEMO_DIR) runs .pytest_cache .hypothesis
