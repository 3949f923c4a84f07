"""The names of what a run folder holds, each named once: `rewardmap train` writes them,
`rewardmap eval` writes an evaluation run folder, and `report`, `compare`, `merge`, `ship` and
the CLI read them. Below both `train` and `eval` (it imports nothing), so that either can name
the other's files without importing it.

Users see these names (the commands' help and messages, the docs): renaming one is a change
of the run folder's format.
"""

# --- a training run folder (`rewardmap train`, train/run.py) ----------------------------------
RECIPE = "recipe.yaml"  # the resolved recipe; written once data and model load, it makes the folder a run to resume
DATA = "data"  # the synthetic questions and maps drawn for the run (when the recipe names no dataset)
INIT = "init"  # the tiny model built for the run from its questions (model.name_or_path: tiny)
SFT = "sft"  # the SFT warm-up's checkpoints (checkpoint-N/) and its model (final/); named as the phase
GRPO = "grpo"  # GRPO's checkpoints (checkpoint-N/) and its model (final/)
FINAL = "final"  # a finished model: the run's trained policy, and each phase's own (its finished marker)
CURRICULUM = "curriculum.json"  # GRPO's curriculum plan: the stages, their questions and optimizer steps
TRAINING_METRICS = "metrics.jsonl"  # one line per trainer log event, tagged with its phase and curriculum stage
TENSORBOARD = "tensorboard"  # TensorBoard logs, one folder per phase
MAPS_WITHIN_BOUNDS = "maps_within_bounds"  # resized copies of the maps out of data.min_pixels / data.max_pixels
POLICY_CHANGE = "policy_change.json"  # how far GRPO moved the weights and the held-out greedy answers
BENCHMARK_RUNS = "benchmarks"  # eval.datasets' benchmarks: an evaluation run folder each, <dataset>/<benchmark>/
TRAINING_PLOTS = "plots"  # the report's figures
REPORT = "report.md"  # the run's report; an evaluation run's has the same name, so eval refuses a training run folder

# --- its held-out evaluations (greedy, and sampled where they bracket GRPO; train/heldout.py) ----
EVAL_BASELINE = "eval_baseline.json"  # trivial answers that do not read the map, scored as the model's are
EVAL_BEFORE = "eval_before.json"  # the policy before training
EVAL_AFTER_SFT = "eval_after_sft.json"  # after the SFT warm-up, where GRPO starts (when both ran)
EVAL_AFTER = "eval_after.json"  # the final policy
EVAL_TRAIN_BEFORE_GRPO = "eval_train_before_grpo.json"  # questions GRPO trains on (eval.train_per_type), before it
EVAL_TRAIN_AFTER = "eval_train_after.json"  # the same questions after it

# --- an evaluation run folder (`rewardmap eval`, eval/run.py) -----------------------------------
SETTINGS = "run.json"  # what the predictions depend on (benchmark, data, model, generation); a re-run must match
PREDICTIONS = "predictions.jsonl"  # the prediction store: one line per finished record, every answer whole
RESPONSES = "responses.jsonl"  # each record with its (cut) responses and scores: what `compare` reads
METRICS = "metrics.json"  # the benchmark summary, with how many predictions failed
MAPS_CHECKED = "maps_checked.json"  # the maps found sound, by size and time, so a re-run decodes only new ones
REPORT_HTML = "report.html"  # the self-contained report page: summary, breakdowns, failures with their maps
# REPORT: the markdown report, as a training run's is named
EVAL_PLOTS = "eval_plots"  # the markdown report's figures

# the metrics of every benchmark evaluation in a training run folder (a glob pattern)
BENCHMARK_METRICS = f"{BENCHMARK_RUNS}/*/*/{METRICS}"
