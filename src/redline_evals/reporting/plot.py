"""The success plot (PNG) and the self-contained HTML page (tables + the plot inline)."""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections.abc import Sequence

from matplotlib.figure import Figure

from .stats import GroupSummary
from .tables import Table

MARKERS = "osD^vP*Xh<>"
SPAN = 0.7
"""Width of a task's slot that its models share."""
ALT = "Success rate with 95% Wilson interval per task and model"


def success_png(groups: Sequence[GroupSummary]) -> bytes:
    """One panel: per task, each model's success rate with its 95% Wilson interval.

    Models keep one colour and marker across tasks; within a task, the models that ran it
    sit side by side, and one with no scored trial says so in its place. The legend (one line
    per model) is outside the axes, on the right.
    """
    tasks = list(dict.fromkeys(g.task for g in groups))
    models = list(dict.fromkeys(g.model for g in groups))
    per_task = max(sum(1 for g in groups if g.task == task) for task in tasks)
    width = min(20.0, 2.5 + len(tasks) * max(1.6, 0.35 * per_task))
    figure = Figure(figsize=(width, 4.8), dpi=120)
    axes = figure.add_subplot()
    points: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {
        model: ([], [], [], []) for model in models
    }
    colours = {model: f"C{m % 10}" for m, model in enumerate(models)}
    for t, task in enumerate(tasks):
        ran = [g for g in groups if g.task == task]
        for i, group in enumerate(ran):
            x = t + (i + 0.5) / len(ran) * SPAN - SPAN / 2
            mean = group.success.mean
            if mean is None:  # every trial unscored: say so where its point would be
                axes.text(
                    x, 0.5, "no scored trial", rotation=90, ha="center", va="center",
                    fontsize=8, color=colours[group.model],
                )  # fmt: skip
                continue
            xs, ys, lows, highs = points[group.model]
            xs.append(x)
            ys.append(mean)
            # the interval holds the rate (wilson_interval clamps it); a rounding error from
            # elsewhere must still not give matplotlib a negative error bar
            lows.append(max(0.0, mean - group.success.low))
            highs.append(max(0.0, group.success.high - mean))
    for m, (model, (xs, ys, lows, highs)) in enumerate(points.items()):
        axes.errorbar(
            xs,
            ys,
            yerr=[lows, highs],
            fmt=MARKERS[m % len(MARKERS)],
            color=colours[model],
            capsize=4,
            markersize=7,
            label=model,
        )
    axes.set_xticks(range(len(tasks)))
    axes.set_xticklabels([_label(task) for task in tasks], fontsize=9)
    axes.set_xlim(-0.6, len(tasks) - 0.4)
    axes.set_ylim(-0.03, 1.03)
    axes.set_ylabel("success rate (95% Wilson interval)")
    axes.set_title("redline-evals: success by task and model")
    axes.grid(axis="y", alpha=0.3)
    for boundary in range(1, len(tasks)):
        axes.axvline(boundary - 0.5, color="0.85", linewidth=0.8)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def html_page(title: str, intro: str, tables: Sequence[Table], png: bytes, footer: str) -> str:
    """A page that works offline: no scripts, the plot embedded as a data URI."""
    image = base64.b64encode(png).decode("ascii")
    body = "\n".join(table.html() for table in tables)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }}
th {{ background: #f2f2f2; }}
img {{ max-width: 100%; }}
p, pre {{ max-width: 60em; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(intro)}</p>
<img alt="{ALT}" src="data:image/png;base64,{image}">
{body}
<pre>{html.escape(footer)}</pre>
</body>
</html>
"""


def _label(task: str) -> str:
    """The family, then one task arg per line."""
    return "\n".join(textwrap.fill(part, 24, break_long_words=False) for part in task.split(" "))
