"""redline-evals: red-line evaluations for Inspect AI (can a model copy itself and keep itself
alive?). The tasks are registered with Inspect through the `inspect_ai` entry point
(`redline_evals._registry`); run them with `inspect eval redline_evals/<family>`."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("redline-evals")
except PackageNotFoundError:  # pragma: no cover - run from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
