"""Where a training step's time goes: wall-clock time per phase, tokens per second, and on a
GPU peak memory and model FLOP utilisation, added to each log event of the trainer (so to
`metrics.jsonl`, TensorBoard and the report) as `time/<phase>` seconds per optimizer step.

A step's period runs from the end of one optimizer step (`on_step_end`) to the end of the
next, so consecutive periods tile the run's wall clock; it holds, in order:

- `logging`, `checkpoint`: the previous step's log event and checkpoint (`Trainer.log`,
  `Trainer._save_checkpoint`), which the trainer runs after that step ended;
- `data`: fetching the step's batches and turning prompts and images into tensors
  (`Trainer.get_batch_samples`, TRL's `_tokenize_prompts`);
- `generation`: sampling the completions (TRL's `_generate`, less the prompt processing);
- `reward`: the reward functions (TRL's `_calculate_rewards`);
- `logprobs`: the old policy's and the reference model's log-probabilities of the rollouts
  (TRL's `_get_per_token_logps_and_entropies` while rollouts are prepared);
- `batching`: the rest of preparing rollouts (padding, advantages, shuffling, splitting);
- `forward_backward`: the policy's forward and backward passes (`Trainer.training_step`, less
  the rollout preparation it starts);
- `optimizer`: from the last backward pass to the step's end (gradient clipping, the
  optimizer and scheduler steps, zeroing the gradients);
- `other`: whatever the period holds besides (callbacks, the training loop itself).

The methods are timed by wrapping them on the trainer instance: TRL profiles the same ones
(`trl.extras.profiling`) but reports only to experiment trackers. On a GPU each phase
boundary waits for the device (`torch.cuda.synchronize`), so work queued by one phase is not
counted in the next.
"""

from __future__ import annotations

import functools
import os
import time
from collections import defaultdict
from collections.abc import Mapping

from transformers import TrainerCallback

PHASES = ("logging", "checkpoint", "data", "generation", "reward", "logprobs", "batching", "forward_backward",
          "optimizer", "other")
# The trainer methods timed, by name (Trainer's and TRL GRPOTrainer's): a method a new release
# renames would fall silently into `other`, so tests/test_timing.py checks that each exists.
TIMED = {"log": "logging", "_save_checkpoint": "checkpoint", "get_batch_samples": "data", "_tokenize_prompts": "data",
         "_generate": "generation", "_calculate_rewards": "reward", "_prepare_inputs": "batching",
         "training_step": "forward_backward"}
LOGPROBS = "_get_per_token_logps_and_entropies"  # timed as `logprobs`, or inside the rollout phases
ROLLOUT = ("batching", "generation")  # a log-prob pass under these is the old or reference model's
# Dense bf16 tensor-core peaks (vendor figures, FLOP/s) for model FLOP utilisation; others:
# set $REWARDMAP_PEAK_TFLOPS.
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0}


class StepTiming(TrainerCallback):
    """Times each optimizer step of the trainer it is `attach`ed to; `periods` keeps each
    step's figures ({"step": n, "time/step": s, "time/<phase>": s, ...})."""

    def __init__(self):
        self.periods: list[dict] = []
        self._pending: list[dict] = []  # periods not yet in a log event
        self._totals: dict[str, float] = defaultdict(float)
        self._tokens = {"generated": 0, "trained": 0, "forward": 0}
        self._stack: list[list] = []  # [phase, start, time of nested timed calls]
        self._start = self._last_backward = None
        self._parameters = 0
        self._cuda = False

    def attach(self, trainer) -> StepTiming:
        """Wrap the trainer's timed methods and add this callback; returns self."""
        import torch

        self._cuda = torch.cuda.is_available() and trainer.args.device.type == "cuda"
        self._parameters = sum(p.numel() for p in trainer.model.parameters())
        for method, phase in TIMED.items():
            if hasattr(trainer, method):  # SFT's trainer has no rollout methods
                setattr(trainer, method, self._timed(getattr(trainer, method), phase))
        if hasattr(trainer, LOGPROBS):
            setattr(trainer, LOGPROBS, self._logprobs(getattr(trainer, LOGPROBS)))
        trainer.log = self._with_timings(trainer.log)
        trainer.add_callback(self)
        return self

    # ------------------------------------------------------------------ timing

    def _now(self) -> float:
        if self._cuda:
            import torch

            torch.cuda.synchronize()
        return time.perf_counter()

    def _timed(self, fn, phase: str):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            self._stack.append([phase, self._now(), 0.0])
            try:
                result = fn(*args, **kwargs)
            finally:
                name, start, nested = self._stack.pop()
                end = self._now()
                self._totals[name] += end - start - nested
                if self._stack:
                    self._stack[-1][2] += end - start
                if name == "forward_backward":
                    self._last_backward = end
            self._count(phase, args, kwargs, result)
            return result

        return timed

    def _logprobs(self, fn):
        timed = self._timed(fn, "logprobs")

        @functools.wraps(fn)
        def logprobs(*args, **kwargs):
            if self._stack and self._stack[-1][0] in ROLLOUT:
                return timed(*args, **kwargs)
            return fn(*args, **kwargs)  # the policy's own forward: part of forward_backward

        return logprobs

    def _count(self, phase: str, args, kwargs, result) -> None:
        """Tokens: generated (completions), trained (prompt and completion positions of the
        micro-batches), forward (every position a forward pass reads, for the FLOP count)."""
        if phase == "generation" and isinstance(result, tuple) and len(result) > 1:
            prompts, completions = result[0], result[1]
            generated = sum(len(c) for c in completions)
            self._tokens["generated"] += generated
            self._tokens["forward"] += generated + sum(len(p) for p in prompts)
        elif phase == "batching" and isinstance(result, Mapping):
            masks = ("prompt_mask", "completion_mask") if "completion_mask" in result else ("attention_mask",)
            trained = sum(int(result[m].sum()) for m in masks if m in result)
            self._tokens["trained"] += trained
            self._tokens["forward"] += 3 * trained  # forward, and a backward of twice its work
        elif phase == "logprobs":
            mask = kwargs.get("attention_mask", args[2] if len(args) > 2 else None)
            if mask is not None:
                self._tokens["forward"] += int(mask.sum())

    # ------------------------------------------------------------------ periods

    def on_train_begin(self, args, state, control, **kwargs):
        self._start = self._now()
        if self._cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()

    def on_step_end(self, args, state, control, **kwargs):
        end = self._now()
        if self._last_backward is not None:
            self._totals["optimizer"] += end - max(self._last_backward, self._start)
        step_time = end - self._start
        period = {"step": state.global_step, "time/step": step_time}
        for phase in PHASES[:-1]:
            period[f"time/{phase}"] = self._totals.get(phase, 0.0)
        period["time/other"] = step_time - sum(self._totals.values())
        period["tokens/generated_per_s"] = self._tokens["generated"] / step_time
        period["tokens/trained_per_s"] = self._tokens["trained"] / step_time
        if self._cuda:
            import torch

            period["gpu/peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
            torch.cuda.reset_peak_memory_stats()
            peak = peak_flops(torch.cuda.get_device_name())
            if peak:  # 2 FLOPs per parameter per position of a forward pass
                period["gpu/mfu"] = 2 * self._parameters * self._tokens["forward"] / step_time / peak
        self.periods.append(period)
        self._pending.append(period)
        self._totals.clear()
        self._tokens = dict.fromkeys(self._tokens, 0)
        self._start, self._last_backward = end, None

    def _with_timings(self, log):
        @functools.wraps(log)
        def logged(logs, *args, **kwargs):
            if self._pending and "train_runtime" not in logs:  # the closing summary gets none
                keys = [k for k in self._pending[0] if k != "step"]
                logs = {**logs, **{k: sum(p.get(k, 0.0) for p in self._pending) / len(self._pending) for k in keys}}
                self._pending.clear()
            return log(logs, *args, **kwargs)

        return logged


def peak_flops(device_name: str) -> float | None:
    """The dense bf16 peak of a GPU (FLOP/s), from $REWARDMAP_PEAK_TFLOPS or `PEAK_TFLOPS`."""
    if os.environ.get("REWARDMAP_PEAK_TFLOPS"):
        return float(os.environ["REWARDMAP_PEAK_TFLOPS"]) * 1e12
    return next((tflops * 1e12 for name, tflops in PEAK_TFLOPS.items() if name in device_name.upper()), None)
