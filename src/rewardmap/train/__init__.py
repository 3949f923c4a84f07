"""Training: GRPO and SFT on TRL, on the curriculum, with held-out checks (models come from `rewardmap.model`).

Submodules import torch and transformers; this package itself imports nothing heavy, so
`import rewardmap.train` stays cheap for the CLI.
"""
