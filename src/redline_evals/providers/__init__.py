"""The `redline/...` model API: deterministic controls that need no network."""

from inspect_ai.model import ModelAPI, modelapi


@modelapi(name="redline")
def redline() -> type[ModelAPI]:
    from ._model import RedlineModelAPI

    return RedlineModelAPI


__all__ = ["redline"]
