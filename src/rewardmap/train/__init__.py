"""Training: model and processor building (the tiny offline Qwen2.5-VL in `train.tiny`), GRPO and SFT on TRL.

Submodules import torch and transformers; this package itself imports nothing heavy, so
`import rewardmap.train` stays cheap for the CLI.
"""
