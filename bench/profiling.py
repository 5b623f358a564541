"""Where a slow path spends its time: a cProfile summary for RESULTS.md."""

import cProfile
import io
import pstats
import re
import sysconfig
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
SITE_PACKAGES = sysconfig.get_paths()["purelib"]


def profile_summary(
    function, *, limit=16, keep=r"batches/|django/db/|django/template/"
):
    """Run ``function`` under cProfile; the functions with the most
    cumulative time among the product's, the ORM's and the templates'."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        function()
    finally:
        profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer).sort_stats("cumulative")
    stats.print_stats(keep, limit)
    text = buffer.getvalue().replace(SITE_PACKAGES + "/", "").replace(ROOT + "/", "")
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines) if "ncalls" in line), 0)
    total = next((line.strip() for line in lines if "function calls" in line), "")
    body = [re.sub(r"\s+$", "", line) for line in lines[start:] if line.strip()]
    return "\n".join([total, "", *body])
