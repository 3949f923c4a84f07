"""The tiny offline Qwen2.5-VL: determinism, processor, save/load, generation, TRL."""

import copy
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration  # noqa: E402
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil  # noqa: E402

from rewardmap.datasets.synthetic import synth_dataset  # noqa: E402
from rewardmap.model.tiny import (  # noqa: E402
    CPU_TRAINING_ARGS,
    EOS_TOKEN,
    PAD_TOKEN,
    ImageOnlyQwen2_5_VLProcessor,
    TinyModelConfig,
    build_tiny_model,
    load_tiny,
    save_tiny,
    train_tokenizer,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Twenty synthetic questions over two 256 px cities: (records, texts, root)."""
    root = tmp_path_factory.mktemp("synth")
    synth_dataset(root, cities=2, seed=0, size=256, per_city=10)
    records = [json.loads(line) for line in (root / "questions.jsonl").read_text().splitlines()]
    texts = [r["question"] for r in records] + [str(r["answer"]) for r in records]
    return records, texts, root


@pytest.fixture(scope="module")
def tiny(data):
    return build_tiny_model(data[1], TinyModelConfig(seed=0))


def _image(data, i=0):
    records, _, root = data
    return Image.open(root / records[i]["figure"])


def _prompt(processor, question):
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
    return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


@pytest.fixture(scope="module")
def overfit(tiny, data):
    """A copy of the tiny model taught one answer: (model, processor, image, prompt, answer)."""
    model, processor = copy.deepcopy(tiny[0]), tiny[1]
    record, image = data[0][0], _image(data)
    prompt, answer = _prompt(processor, record["question"]), f"\\boxed{{{record['answer']}}}"
    full = processor(text=[prompt + answer + EOS_TOKEN], images=[image], return_tensors="pt")
    labels = full["input_ids"].clone()
    labels[:, :len(processor(text=[prompt], images=[image])["input_ids"][0])] = -100
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(60):
        loss = model(**full, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    return model, processor, image, prompt, answer


def test_same_seed_same_model_and_tokenizer(data, tiny):
    model, processor = tiny
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    again, again_processor = build_tiny_model(data[1], TinyModelConfig(seed=0))
    assert torch.equal(torch.rand(3), expected), "building must not touch the global RNG"
    assert again_processor.tokenizer.backend_tokenizer.to_str() == processor.tokenizer.backend_tokenizer.to_str()
    state, state_again = model.state_dict(), again.state_dict()
    assert state.keys() == state_again.keys()
    assert all(torch.equal(state[k], state_again[k]) for k in state)

    other, other_processor = build_tiny_model(data[1], TinyModelConfig(seed=1))
    assert other_processor.tokenizer.backend_tokenizer.to_str() == processor.tokenizer.backend_tokenizer.to_str()
    assert not torch.equal(other.model.language_model.layers[0].mlp.up_proj.weight,
                           model.model.language_model.layers[0].mlp.up_proj.weight)


def test_tokenizer_is_small_byte_level_and_qwen_like(data, tiny):
    tokenizer = tiny[1].tokenizer
    assert len(tokenizer) <= TinyModelConfig().vocab_size
    assert tiny[0].config.text_config.vocab_size == len(tokenizer)
    assert tokenizer.eos_token == EOS_TOKEN and tokenizer.pad_token == PAD_TOKEN
    for special in ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|vision_start|>", "<|vision_end|>",
                    "<|image_pad|>", "<|video_pad|>"):
        assert len(tokenizer.tokenize(special)) == 1
    text = data[0][0]["question"] + " Zürich 東京"  # byte-level: unseen characters still round-trip
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    assert len(tokenizer(data[0][0]["question"])["input_ids"]) < 40  # words were learned, not bytes
    small = train_tokenizer(data[1], vocab_size=300)
    assert len(small) <= 300


def test_chat_template_renders_image_and_masks_assistant(tiny):
    processor = tiny[1]
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many lines?"}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                    "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>How many lines?<|im_end|>\n"
                    "<|im_start|>assistant\n")
    plain = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert processor.apply_chat_template(plain, tokenize=False) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")

    dialogue = messages + [{"role": "assistant", "content": [{"type": "text", "text": "\\boxed{3}"}]}]
    out = processor.tokenizer.apply_chat_template(dialogue, tokenize=True, return_dict=True,
                                                  return_assistant_tokens_mask=True)
    kept = [t for t, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert processor.tokenizer.decode(kept) == "\\boxed{3}" + EOS_TOKEN
    two_turns = dialogue + [{"role": "user", "content": "Sure?"}]
    assert processor.apply_chat_template(two_turns, tokenize=False).endswith(
        "<|im_start|>assistant\n\\boxed{3}<|im_end|>\n<|im_start|>user\nSure?<|im_end|>\n")


def test_processor_maps_white_to_zero_with_fixed_image_tokens(tiny, data):
    processor, config = tiny[1], TinyModelConfig()
    assert isinstance(processor.image_processor, Qwen2VLImageProcessorPil)
    white = processor.image_processor(images=[Image.new("RGB", (300, 300), "white")], return_tensors="pt")
    assert torch.count_nonzero(white["pixel_values"]) == 0
    black = processor.image_processor(images=[Image.new("RGB", (64, 64), "black")], return_tensors="pt")
    assert torch.allclose(black["pixel_values"], torch.full_like(black["pixel_values"], -2.0))

    inputs = processor(text=[_prompt(processor, "How many lines?")], images=[_image(data)], return_tensors="pt")
    assert set(inputs) >= {"input_ids", "attention_mask", "pixel_values", "image_grid_thw", "mm_token_type_ids"}
    assert inputs["image_grid_thw"].tolist() == [[1, 8, 8]]
    image_token = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert int((inputs["input_ids"] == image_token).sum()) == config.image_tokens == 16
    assert int(inputs["mm_token_type_ids"].sum()) == config.image_tokens


def test_save_and_reload_gives_same_logits(tiny, data, tmp_path):
    model, processor = tiny
    folder = save_tiny(model, processor, tmp_path / "tiny")
    for name in ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                 "processor_config.json", "chat_template.jinja"):
        assert (folder / name).is_file(), name

    reloaded_processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
    reloaded = Qwen2_5_VLForConditionalGeneration.from_pretrained(folder, local_files_only=True).eval()
    assert isinstance(reloaded_processor, ImageOnlyQwen2_5_VLProcessor)
    assert isinstance(reloaded_processor.image_processor, Qwen2VLImageProcessorPil)
    assert list(reloaded_processor.image_processor.image_mean) == [1.0, 1.0, 1.0]
    assert reloaded_processor.chat_template == processor.chat_template
    tokenizer = reloaded_processor.tokenizer
    assert reloaded.generation_config.eos_token_id == tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    assert reloaded.generation_config.pad_token_id == tokenizer.convert_tokens_to_ids(PAD_TOKEN)

    text = [_prompt(processor, data[0][0]["question"])]
    inputs = processor(text=text, images=[_image(data)], return_tensors="pt")
    again = reloaded_processor(text=text, images=[_image(data)], return_tensors="pt")
    assert inputs.keys() == again.keys() and all(torch.equal(inputs[k], again[k]) for k in inputs)
    with torch.no_grad():
        assert torch.equal(model(**inputs).logits, reloaded(**again).logits)

    model_b, processor_b = load_tiny(folder)
    assert processor_b.tokenizer.backend_tokenizer.to_str() == processor.tokenizer.backend_tokenizer.to_str()


def test_greedy_generation_runs_and_stops(tiny, overfit, data):
    model, processor = tiny
    inputs = processor(text=[_prompt(processor, "How many lines?")], images=[_image(data)], return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, do_sample=False, max_new_tokens=5)
    assert out.shape[1] <= inputs["input_ids"].shape[1] + 5  # the random model runs to the limit

    model, processor, image, prompt, answer = overfit
    inputs = processor(text=[prompt], images=[image], return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, do_sample=False, max_new_tokens=20)
    new = out[0, inputs["input_ids"].shape[1]:]
    assert new[-1] == processor.tokenizer.convert_tokens_to_ids(EOS_TOKEN)  # stopped at <|im_end|>, not the limit
    assert processor.decode(new, skip_special_tokens=True) == answer


def test_teacher_forced_logits_match_generation(overfit):
    """Pitfall 2: a training forward pass must see the same 3-D M-RoPE positions as generation."""
    model, processor, image, prompt, answer = overfit
    prompt_inputs = processor(text=[prompt], images=[image], return_tensors="pt")
    n = prompt_inputs["input_ids"].shape[1]
    with torch.no_grad():
        generated = model.generate(**prompt_inputs, do_sample=False, max_new_tokens=20,
                                   output_logits=True, return_dict_in_generate=True)
    new = generated.sequences[0, n:]
    step_logits = torch.stack(generated.logits)[:, 0]

    # SFT-style: the processor on the whole text, every key it returns.
    full = processor(text=[prompt + answer + EOS_TOKEN], images=[image], return_tensors="pt")
    assert torch.equal(full["input_ids"][0, n:], new)
    # GRPO-style: prompt ids + completion ids, mm_token_type_ids padded with zeros (text).
    grpo = dict(prompt_inputs)
    grpo["input_ids"] = torch.cat([prompt_inputs["input_ids"], new[None]], dim=1)
    grpo["attention_mask"] = torch.ones_like(grpo["input_ids"])
    grpo["mm_token_type_ids"] = torch.cat([prompt_inputs["mm_token_type_ids"], torch.zeros_like(new[None])], dim=1)
    without = {k: v for k, v in full.items() if k != "mm_token_type_ids"}
    with torch.no_grad():
        for inputs in (full, grpo):
            teacher = model(**inputs).logits[0, n - 1:-1]
            assert torch.allclose(teacher, step_logits, atol=1e-5, rtol=0), (teacher - step_logits).abs().max()
        # Without mm_token_type_ids the model silently falls back to 1-D positions.
        flat = model(**without).logits[0, n - 1:-1]
        assert (flat - step_logits).abs().max() > 1e-2


def test_grpo_trainer_runs_two_steps(tiny, data, tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    model, processor = copy.deepcopy(tiny[0]), tiny[1]
    records, _, root = data
    # What GRPOTrainer 1.16 wants for a VLM: a conversational `prompt` (string content; the
    # trainer inserts the image part) and an `image` column (or `images`, a list per row).
    rows = [{"prompt": [{"role": "user", "content": r["question"]}],
             "image": Image.open(root / r["figure"]).convert("RGB"),
             "answer": str(r["answer"])} for r in records[:4]]
    seen = []

    def reward(completions, answer, **kwargs):
        seen.append((completions, answer, sorted(kwargs)))
        return [float(i % 2) for i in range(len(completions))]  # 0 and 1 in every group: never a zero advantage

    args = GRPOConfig(output_dir=str(tmp_path / "grpo"), per_device_train_batch_size=2, num_generations=2,
                      max_completion_length=6, max_steps=2, learning_rate=1e-3, report_to=[], logging_steps=1,
                      save_strategy="no", disable_tqdm=True, seed=0, dataloader_num_workers=0, **CPU_TRAINING_ARGS)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=Dataset.from_list(rows),
                          processing_class=processor)
    trainer.train()

    assert trainer.state.global_step == 2
    assert len(seen) == 2
    completions, answers, columns = seen[0]
    assert completions[0][0]["role"] == "assistant" and isinstance(completions[0][0]["content"], str)
    assert "image" in columns and all(a in {str(r["answer"]) for r in records} for a in answers)
    logs = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert len(logs) == 2 and all(entry["completions/max_length"] <= 6 for entry in logs)
    assert all(entry["grad_norm"] > 0 for entry in logs)
    after = model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_sft_trainer_runs_on_prompt_completion_images(tiny, data, tmp_path):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model, processor = copy.deepcopy(tiny[0]), tiny[1]
    records, _, root = data
    rows = [{"prompt": [{"role": "user", "content": r["question"]}],
             "completion": [{"role": "assistant", "content": f"\\boxed{{{r['answer']}}}"}],
             "image": Image.open(root / r["figure"]).convert("RGB")} for r in records[:4]]
    args = SFTConfig(output_dir=str(tmp_path / "sft"), per_device_train_batch_size=2, max_steps=2, max_length=None,
                     learning_rate=1e-3, report_to=[], logging_steps=1, save_strategy="no", disable_tqdm=True,
                     seed=0, dataloader_num_workers=0, **CPU_TRAINING_ARGS)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=processor)
    batch = next(iter(trainer.get_train_dataloader()))
    assert {"pixel_values", "image_grid_thw", "mm_token_type_ids", "labels"} <= set(batch)
    trainer.train()
    assert trainer.state.global_step == 2
    assert all(torch.isfinite(torch.tensor(e["loss"])) for e in trainer.state.log_history if "loss" in e)


def test_step_timing_puts_each_phase_where_it_happens(tiny, data, tmp_path):
    """A reward that sleeps shows as reward time, a slow log event as logging time; the phases
    tile each step's wall clock."""
    import time

    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from rewardmap.train.timing import PHASES, StepTiming

    model, processor = copy.deepcopy(tiny[0]), tiny[1]
    records, _, root = data
    rows = [{"prompt": [{"role": "user", "content": r["question"]}],
             "image": Image.open(root / r["figure"]).convert("RGB")} for r in records[:8]]

    def reward(completions, **kwargs):
        time.sleep(0.2)
        return [1.0] * len(completions)

    class SlowLog(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            time.sleep(0.1)

    args = GRPOConfig(output_dir=str(tmp_path / "grpo"), per_device_train_batch_size=2, num_generations=2,
                      steps_per_generation=2, beta=0.0, max_completion_length=6, max_steps=4, learning_rate=1e-3,
                      report_to=[], logging_steps=1, save_strategy="steps", save_steps=2, disable_tqdm=True, seed=0,
                      dataloader_num_workers=0, **CPU_TRAINING_ARGS)
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=Dataset.from_list(rows),
                          processing_class=processor)
    timing = StepTiming().attach(trainer)
    trainer.add_callback(SlowLog())
    trainer.train()

    periods = timing.periods
    assert [p["step"] for p in periods] == [1, 2, 3, 4]
    # rollouts are generated every second step (steps_per_generation=2): 0.2 s of reward each time
    assert [p["time/reward"] >= 0.2 for p in periods] == [True, False, True, False]
    assert all(p["time/reward"] < 0.3 for p in periods)
    assert all(p["time/logging"] >= 0.1 for p in periods[1:]) and periods[0]["time/logging"] == 0
    assert periods[2]["time/checkpoint"] > 0 and periods[1]["time/checkpoint"] == 0  # saved after step 2
    for p in periods:
        named = sum(p[f"time/{phase}"] for phase in PHASES[:-1])
        assert named + p["time/other"] == pytest.approx(p["time/step"])
        assert p["time/other"] < 0.05 * p["time/step"], p  # the named phases hold nearly all of it
        assert p["time/forward_backward"] > 0 and p["time/optimizer"] > 0 and p["time/data"] > 0
        assert p["tokens/trained_per_s"] > 0
    for p in (periods[0], periods[2]):
        assert p["time/generation"] > 0 and p["time/logprobs"] > 0 and p["tokens/generated_per_s"] > 0
    logged = [entry for entry in trainer.state.log_history if "time/step" in entry]  # what metrics.jsonl gets
    assert [entry["time/reward"] for entry in logged] == [p["time/reward"] for p in periods]
    assert "train_runtime" in trainer.state.log_history[-1] and "time/step" not in trainer.state.log_history[-1]


def test_generation_levers_reach_the_trainer(tiny, data, tmp_path):
    """Two optimizer steps from one rollout batch (one generate call), on a static KV cache,
    with compiled decoding allowed: as `grpo.steps_per_rollout_batch`, `cache_implementation`
    and `compile_generation` set them."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from rewardmap.train.recipe import grpo_config_kwargs, load_recipe
    from rewardmap.train.run import configure_generation
    from rewardmap.train.timing import StepTiming

    model, processor = copy.deepcopy(tiny[0]), tiny[1]
    records, _, root = data
    rows = [{"prompt": [{"role": "user", "content": r["question"]}],
             "image": Image.open(root / r["figure"]).convert("RGB")} for r in records[:8]]
    recipe = load_recipe("tiny", ["grpo.prompts_per_step=2", "grpo.num_generations=2", "grpo.per_device_batch_size=2",
                                  "grpo.steps_per_rollout_batch=2", "grpo.cache_implementation=static",
                                  "grpo.compile_generation=true", "grpo.max_completion_length=6", "grpo.max_steps=2",
                                  "grpo.beta=0", "grpo.save_steps=0", "grpo.report_to=none"])
    args = GRPOConfig(**grpo_config_kwargs(recipe, tmp_path / "grpo"), disable_tqdm=True)
    trainer = GRPOTrainer(model=model, reward_funcs=lambda completions, **kw: [1.0] * len(completions), args=args,
                          train_dataset=Dataset.from_list(rows), processing_class=processor)
    configure_generation(trainer, recipe.grpo)
    calls = []
    generate = trainer.model.generate
    trainer.model.generate = lambda *a, **kw: calls.append(kw["generation_config"]) or generate(*a, **kw)
    timing = StepTiming().attach(trainer)
    trainer.train()

    assert trainer.state.global_step == 2 and len(calls) == 1  # both steps' 8 rollouts in one call
    assert calls[0].cache_implementation == "static" and calls[0].disable_compile is False
    assert timing.periods[0]["time/generation"] > 0 and timing.periods[1]["time/generation"] == 0
