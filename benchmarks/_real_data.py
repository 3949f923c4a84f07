"""Where the benchmarks find the real ReasonMap files: the folder named by
$REWARDMAP_REAL_DATA (holding `stations/<country>/<city>.json` and `maps/<country>/*.png`),
else the development machines' copy beside the checkout. Benchmarks fall back to
synthetic cities when it is absent."""

import os
from pathlib import Path

REAL_DATA = Path(os.environ.get("REWARDMAP_REAL_DATA")
                 or Path(__file__).resolve().parents[2] / "shared/data/reasonmap")
