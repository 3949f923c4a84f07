"""A tiny Qwen2.5-VL built offline from a seed, for CPU smoke runs of GRPO and SFT.

Nothing is downloaded: the tokenizer is a byte-level BPE trained on the spot on the texts
the model will see, the weights are a random init fixed by `TinyModelConfig.seed`, and
the processor uses transformers' PIL/NumPy image path, so no torchvision is needed.

Two choices matter for learning anything at this scale (both measured on a 2-core CPU):
- images are normalised so that white maps to 0 (mean 1, std 0.5): the maps are mostly
  white, and CLIP normalisation lets the background swamp the lines;
- one image is always `TinyModelConfig.image_tokens` vision tokens (16 at 112 px), so a
  prompt costs a few dozen positions, not thousands.

transformers 5.24 cannot build or load the stock `Qwen2_5_VLProcessor` without torchvision:
its video processor is torchvision-only, and both `__init__` and `AutoProcessor` insist
on one. `ImageOnlyQwen2_5_VLProcessor` is the same processor without the video slot; it
is registered with `AutoProcessor` when this module is imported, so
`AutoProcessor.from_pretrained(folder)` works in any process that imported it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    AutoProcessor,
    AutoTokenizer,
    GenerationConfig,
    PretrainedConfig,
    PreTrainedTokenizerFast,
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLProcessor,
)
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

from ..fileio import follow_umask

# The Qwen2.5-VL special tokens, in the order Qwen numbers them (here they get ids 0..13).
SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>",
    "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>",
    "<|quad_start|>", "<|quad_end|>",
    "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
)
EOS_TOKEN = "<|im_end|>"
PAD_TOKEN = "<|endoftext|>"
IMAGE_TOKEN = "<|image_pad|>"
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."

# Qwen2's pre-tokenizer split: single digits, words with one leading non-letter, punctuation runs.
_QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

# Qwen2-VL's chat template (system prompt by default, one image placeholder per image part),
# except that assistant turns render their text only, inside `{% generation %}` so TRL can
# mask everything else (`assistant_only_loss`); the markers do not change the rendered text.
# transformers renders with trim_blocks: a newline right after a block tag is dropped, hence `{{ '\\n' }}`.
_RENDER_PARTS = (
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
)
_RENDER_TEXT = (
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
)
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\n"
    + DEFAULT_SYSTEM_PROMPT + "<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['role'] == 'assistant' %}{% generation %}" + _RENDER_TEXT + "<|im_end|>{% endgeneration %}"
    "{{ '\\n' }}{% else %}" + _RENDER_PARTS + "<|im_end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Text the template adds around every conversation: the tokenizer learns it as a few tokens.
_TEMPLATE_TEXTS = (f"system\n{DEFAULT_SYSTEM_PROMPT}", "user\n", "assistant\n")


@dataclass
class TinyModelConfig:
    """Size and seed of the tiny Qwen2.5-VL (defaults: about 180k parameters)."""

    seed: int = field(default=0, metadata={
        "help": "Seed of the random init (the tokenizer depends only on the texts)."})
    vocab_size: int = field(default=1024, metadata={
        "help": "Target vocabulary of the trained BPE tokenizer, special tokens and 256 bytes included; smaller "
                "when the texts run out of merges. The model's vocabulary is the tokenizer's actual size."})
    min_frequency: int = field(default=2, metadata={"help": "A pair must occur this often to become a BPE merge."})
    hidden_size: int = field(default=64, metadata={"help": "Width of the language model."})
    intermediate_size: int = field(default=128, metadata={"help": "Width of the language model's MLP."})
    num_hidden_layers: int = field(default=2, metadata={"help": "Decoder layers of the language model."})
    num_attention_heads: int = field(default=4, metadata={
        "help": "Query heads; hidden_size / heads is the head size, whose half is split 1:1.5:1.5 between the "
                "temporal, height and width M-RoPE sections."})
    num_key_value_heads: int = field(default=2, metadata={"help": "Key/value heads (grouped-query attention)."})
    rope_theta: float = field(default=10000.0, metadata={"help": "RoPE base of the language model."})
    max_position_embeddings: int = field(default=2048, metadata={
        "help": "Longest sequence (prompt, image tokens and completion); also the tokenizer's model_max_length."})
    tie_word_embeddings: bool = field(default=True, metadata={"help": "Share the input embedding and the LM head."})
    vision_hidden_size: int = field(default=32, metadata={"help": "Width of the vision encoder."})
    vision_intermediate_size: int = field(default=64, metadata={"help": "Width of the vision encoder's MLP."})
    vision_depth: int = field(default=2, metadata={"help": "Blocks of the vision encoder; the last uses full "
                                                            "attention, the others windows of the whole image."})
    vision_num_heads: int = field(default=2, metadata={"help": "Attention heads of the vision encoder."})
    image_size: int = field(default=112, metadata={
        "help": "Side in pixels every image is resized to (min_pixels = max_pixels = image_size**2); a multiple "
                "of patch_size * merge_size. A square image gives (image_size / 28)**2 vision tokens: 16 at 112."})
    patch_size: int = field(default=14, metadata={"help": "Vision patch side in pixels (Qwen2.5-VL: 14)."})
    merge_size: int = field(default=2, metadata={"help": "merge_size x merge_size patches become one LM token."})
    attn_implementation: str = field(default="sdpa", metadata={"help": "Attention kernel: sdpa or eager."})

    def __post_init__(self):
        unit = self.patch_size * self.merge_size
        if self.image_size < unit or self.image_size % unit:
            raise ValueError(f"image_size must be a positive multiple of patch_size * merge_size = {unit}, "
                             f"got {self.image_size}")
        if self.hidden_size % self.num_attention_heads or (self.hidden_size // self.num_attention_heads) % 2:
            raise ValueError("hidden_size / num_attention_heads must be an even integer")
        if self.head_dim < 6:
            raise ValueError("the head size must be at least 6 (three M-RoPE sections)")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        if self.vision_hidden_size % self.vision_num_heads or (self.vision_hidden_size // self.vision_num_heads) % 4:
            raise ValueError("vision_hidden_size / vision_num_heads must be a multiple of 4 (2-D rotary)")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def mrope_section(self) -> list[int]:
        """Rotary frequencies per M-RoPE axis (t, h, w), in Qwen's 1:1.5:1.5 ratio ([16, 24, 24] at head 128).

        >>> TinyModelConfig().mrope_section
        [2, 3, 3]
        """
        half = self.head_dim // 2
        t = half // 4
        h = (half - t) // 2
        return [t, h, half - t - h]

    @property
    def min_pixels(self) -> int:
        return self.image_size ** 2

    @property
    def max_pixels(self) -> int:
        return self.image_size ** 2

    @property
    def image_tokens(self) -> int:
        """Vision tokens one square image becomes.

        >>> TinyModelConfig().image_tokens
        16
        """
        return (self.image_size // (self.patch_size * self.merge_size)) ** 2


# TrainingArguments for a tiny model on CPU. TRL 1.16's GRPOConfig and SFTConfig default to
# bf16=True, which on CPU autocasts the vision patch embedding (a Conv3d) onto a slow path:
# a GRPO step of 32 completions takes 4-5 s instead of 0.8 s, and the trainer's log-probs are
# then bf16 while generation's are fp32. Activation checkpointing (TRL: on by default; transformers
# 5.24 renamed it from gradient_checkpointing) only costs time at this size.
CPU_TRAINING_ARGS = {"use_cpu": True, "bf16": False, "fp16": False, "activation_checkpointing": False}


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024, *, min_frequency: int = 2,
                    model_max_length: int = 2048,
                    chat_template: str = CHAT_TEMPLATE) -> PreTrainedTokenizerFast:
    """A Qwen-style byte-level BPE tokenizer trained on TEXTS (plus the chat template's own text).

    Special tokens are those of Qwen2.5-VL (ids 0..13); eos is `<|im_end|>`, pad `<|endoftext|>`,
    padding on the left (batched generation). Byte-level, so any text encodes. The result
    depends only on the texts and arguments.
    """
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_QWEN_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
                                  special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    corpus = [t for t in texts if t]
    # Every conversation carries the template's text once: weigh it so.
    corpus += list(_TEMPLATE_TEXTS) * max(min_frequency, len(corpus))
    tok.train_from_iterator(corpus, trainer=trainer, length=len(corpus))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS_TOKEN, pad_token=PAD_TOKEN,
                                   model_max_length=model_max_length, padding_side="left",
                                   chat_template=chat_template)


class ImageOnlyQwen2_5_VLProcessor(Qwen2_5_VLProcessor):
    """`Qwen2_5_VLProcessor` for images only: no video processor, so no torchvision.

    Loading always uses the PIL image processor (`Qwen2VLImageProcessorPil`), even where
    torchvision is installed, so pixels never depend on the machine.
    """

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        # The parent passes video_processor=None on; ProcessorMixin pairs arguments with this
        # class's attributes (image_processor, tokenizer) and drops it.
        super().__init__(image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template, **kwargs)

    @classmethod
    def _get_arguments_from_pretrained(cls, pretrained_model_name_or_path, processor_dict=None, **kwargs):
        subfolder = kwargs.pop("subfolder", "")
        image_processor = Qwen2VLImageProcessorPil.from_pretrained(
            pretrained_model_name_or_path, subfolder=subfolder, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(pretrained_model_name_or_path, subfolder=subfolder, **kwargs)
        return [image_processor, tokenizer]


class _ImageOnlyProcessorKey(PretrainedConfig):
    """Registry key only: AutoProcessor finds registered processors by class name, keyed by a config class."""

    model_type = "rewardmap_image_only_qwen2_5_vl"


AutoProcessor.register(_ImageOnlyProcessorKey, ImageOnlyQwen2_5_VLProcessor, exist_ok=True)


def build_processor(tokenizer: PreTrainedTokenizerFast,
                    config: TinyModelConfig | None = None) -> ImageOnlyQwen2_5_VLProcessor:
    """The processor: white -> 0 normalisation, every image resized to `config.image_size`."""
    config = config or TinyModelConfig()
    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=config.min_pixels, max_pixels=config.max_pixels,
        patch_size=config.patch_size, merge_size=config.merge_size, temporal_patch_size=2,
        image_mean=[1.0, 1.0, 1.0], image_std=[0.5, 0.5, 0.5])
    return ImageOnlyQwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                        chat_template=tokenizer.chat_template)


def model_config(tokenizer: PreTrainedTokenizerFast, config: TinyModelConfig | None = None) -> Qwen2_5_VLConfig:
    """The `Qwen2_5_VLConfig` for CONFIG, with token ids from TOKENIZER."""
    config = config or TinyModelConfig()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = dict(
        vocab_size=len(tokenizer), hidden_size=config.hidden_size, intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_hidden_layers, num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_key_value_heads, max_position_embeddings=config.max_position_embeddings,
        max_window_layers=config.num_hidden_layers,
        rope_parameters={"rope_type": "default", "rope_theta": config.rope_theta,
                         "mrope_section": config.mrope_section},
        bos_token_id=ids[PAD_TOKEN], eos_token_id=ids[EOS_TOKEN], pad_token_id=ids[PAD_TOKEN])
    vision = dict(
        depth=config.vision_depth, hidden_size=config.vision_hidden_size,
        intermediate_size=config.vision_intermediate_size, num_heads=config.vision_num_heads,
        out_hidden_size=config.hidden_size, patch_size=config.patch_size, spatial_merge_size=config.merge_size,
        temporal_patch_size=2, window_size=config.image_size, fullatt_block_indexes=[config.vision_depth - 1])
    return Qwen2_5_VLConfig(
        text_config=text, vision_config=vision, tie_word_embeddings=config.tie_word_embeddings,
        image_token_id=ids[IMAGE_TOKEN], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        attn_implementation=config.attn_implementation)


def generation_config(tokenizer: PreTrainedTokenizerFast) -> GenerationConfig:
    """Greedy by default; stops at `<|im_end|>`, pads with `<|endoftext|>`."""
    return GenerationConfig(eos_token_id=tokenizer.convert_tokens_to_ids(EOS_TOKEN),
                            pad_token_id=tokenizer.convert_tokens_to_ids(PAD_TOKEN),
                            bos_token_id=tokenizer.convert_tokens_to_ids(PAD_TOKEN))


def build_model(tokenizer: PreTrainedTokenizerFast,
                config: TinyModelConfig | None = None) -> Qwen2_5_VLForConditionalGeneration:
    """A randomly initialised model, the same for the same seed; the global RNG is left untouched."""
    config = config or TinyModelConfig()
    qwen_config = model_config(tokenizer, config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = Qwen2_5_VLForConditionalGeneration(qwen_config).to(torch.float32)
    model.generation_config = generation_config(tokenizer)
    return model.eval()


def build_tiny_model(texts: Iterable[str], config: TinyModelConfig | None = None,
                     ) -> tuple[Qwen2_5_VLForConditionalGeneration, ImageOnlyQwen2_5_VLProcessor]:
    """A tokenizer trained on TEXTS, the processor around it and a random model, all offline.

    TEXTS are what the model will read and write: questions, answers, system prompts.
    """
    config = config or TinyModelConfig()
    tokenizer = train_tokenizer(texts, config.vocab_size, min_frequency=config.min_frequency,
                                model_max_length=config.max_position_embeddings)
    return build_model(tokenizer, config), build_processor(tokenizer, config)


def save_tiny(model, processor, folder: str | Path) -> Path:
    """Write model, generation config, tokenizer, processor and chat template into FOLDER."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    follow_umask(folder)
    return folder


def load_tiny(folder: str | Path) -> tuple[Qwen2_5_VLForConditionalGeneration, ImageOnlyQwen2_5_VLProcessor]:
    """Read back what `save_tiny` wrote, offline (`AutoProcessor.from_pretrained(folder)` works too)."""
    folder = str(folder)
    processor = ImageOnlyQwen2_5_VLProcessor.from_pretrained(folder, local_files_only=True)
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(folder, local_files_only=True)
    return model.eval(), processor
