"""The transformers evaluation backend on a GPU: generated tokens/s by batch size, peak
memory, and what happens when a batch does not fit.

The model has Qwen2.5-VL-7B-Instruct's architecture with random weights in bf16 (built as
in `bench_train_gpu.py`: no download; its ids beyond the small trained tokenizer decode to
nothing, so every answer runs to `--max-new-tokens`). Questions are ReasonMap-Plus
questions on synthetic maps of `--map-size` pixels, given to the model at
`--image-size`^2 pixels (1,296 image tokens at 1,008). Each batch size answers its own
records into its own store, through `LocalBackend.run` exactly as `rewardmap eval` does.

Then the same model under a memory cap (`torch.cuda.set_per_process_memory_fraction`,
`--cap-gib`) answers with a batch too large for it: the backend should halve the batch
until it fits and answer every record.

    python benchmarks/bench_eval_gpu.py [--batches 1,8,32] [--max-new-tokens 128] [--cap-gib 24] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train_gpu import CUDA, build  # noqa: E402  (the same 7B-sized model)


def measured_generate(model):
    """Wrap `model.generate` to record (prompts, new tokens) of each call."""
    calls: list[tuple[int, int]] = []
    generate = model.generate

    def wrapped(*args, **kwargs):
        out = generate(*args, **kwargs)
        calls.append((out.shape[0], out.shape[1] - kwargs["input_ids"].shape[1]))
        return out
    model.generate = wrapped
    return calls


def answer(model, processor, records, batch_size: int, max_new_tokens: int, folder: Path) -> dict:
    from rewardmap.eval.backends.local import LocalBackend
    from rewardmap.eval.run import requests_for
    from rewardmap.eval.store import PredictionStore

    calls = measured_generate(model)
    backend = LocalBackend(model, processor, batch_size=batch_size, max_new_tokens=max_new_tokens)
    if CUDA:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    with PredictionStore(folder / "predictions.jsonl") as store:
        summary = backend.run(records, requests_for("reasonmap-plus"), store)
        errors = sorted({p["error"][:120] for p in store.records() if p["status"] == "failed"})
    if CUDA:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    del model.generate  # back to the class's method
    generated = sum(n * new for n, new in calls)
    return {"batch_size": batch_size, "records": len(records), "ok": summary.ok, "failed": summary.failed,
            "errors": errors, "generate_calls": [n for n, _ in calls], "seconds": round(seconds, 2),
            "generated_tokens": generated, "generated_per_s": round(generated / seconds, 1),
            "records_per_s": round(len(records) / seconds, 3),
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 1) if CUDA else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="7b")
    parser.add_argument("--batches", default="1,8,32")
    parser.add_argument("--records", type=int, default=32, help="records per batch size (batch 1: a quarter)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--map-size", type=int, default=1024)
    parser.add_argument("--image-size", type=int, default=1008)
    parser.add_argument("--cap-gib", type=float, default=24.0, help="memory cap of the too-large-batch check")
    parser.add_argument("--cap-batch", type=int, default=128)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from rewardmap.datasets.synthetic import synth_dataset
    from rewardmap.datasets.records import load_records
    from rewardmap.train.data import target_text

    tmp = Path(tempfile.mkdtemp())
    synth_dataset(tmp / "data", cities=4, seed=0, size=args.map_size, per_city=max(args.records, args.cap_batch))
    records = [r for r in load_records(tmp / "data") if r["type"] != "planning"]
    t0 = time.perf_counter()
    model, processor = build(args.size, [r["question"] for r in records] + [target_text(r) for r in records],
                             args.image_size)
    model.eval()
    results = {"gpu": torch.cuda.get_device_name() if CUDA else "cpu", "size": args.size,
               "build_seconds": round(time.perf_counter() - t0, 1), "max_new_tokens": args.max_new_tokens,
               "image_tokens": (args.image_size // 28) ** 2, "runs": []}
    for batch in map(int, args.batches.split(",")):
        n = args.records if batch > 1 else max(1, args.records // 4)
        run = answer(model, processor, records[:n], batch, args.max_new_tokens, tmp / f"batch{batch}")
        results["runs"].append(run)
        print(json.dumps(run), flush=True)
    if CUDA and args.cap_gib:
        torch.cuda.empty_cache()
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, args.cap_gib * 2**30 / total))
        run = answer(model, processor, records[:args.cap_batch], args.cap_batch, args.max_new_tokens, tmp / "capped")
        results["capped"] = {"cap_gib": args.cap_gib, **run}
        print(json.dumps(results["capped"]), flush=True)
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
