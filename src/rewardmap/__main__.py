"""`python -m rewardmap ...` is the `rewardmap` command (as `accelerate launch -m rewardmap` needs)."""

from .cli import app

app()
