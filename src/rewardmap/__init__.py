"""rewardmap: teach multimodal models to read transit maps and plan routes on them."""

__version__ = "0.1.0"
