"""The model layer under training and evaluation: loading a model and its processor (a local
folder, a Hub id, or the offline tiny Qwen2.5-VL of `model.tiny`), and batched greedy
generation with its out-of-memory halving (`model.generate`). `rewardmap.train` and
`rewardmap.eval` both build on it; neither imports the other.

Submodules import torch and transformers; this package itself imports nothing heavy.
"""
