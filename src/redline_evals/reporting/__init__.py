"""Model-comparison reports from Inspect logs of redline-evals (`redline-evals report`)."""

from .logs import LogSet, Skipped, Trial, read_trials
from .report import NoUsableLogs, Report, write_report
from .stats import GroupSummary, Rate, summarise

__all__ = [
    "GroupSummary",
    "LogSet",
    "NoUsableLogs",
    "Rate",
    "Report",
    "Skipped",
    "Trial",
    "read_trials",
    "summarise",
    "write_report",
]
