"""Heavy libraries imported when first used, not when the code location loads.

Loading the definitions needs dagster, the catalog and the asset graph; pandas, numpy, openpyxl
and DuckDB are needed only when an asset, sensor or check body runs. Deferred, they leave the
code server's start, every "Reload definitions" and every run's launch about a second sooner.
A module that would touch one while it is imported (``from openpyxl.styles import Font`` at its
top, an annotation pydantic evaluates) imports it in the function that uses it instead.

``defer(name)`` puts a placeholder module in ``sys.modules``: ``import pandas as pd`` anywhere
binds it without running pandas, and the first use of ``pd.anything`` runs pandas' own module code
into it (the recipe of :class:`importlib.util.LazyLoader`; that class runs the module already when
``import`` looks at ``__spec__``, which every ``import pandas`` does, so it defers nothing here).
Loading holds a lock: a thread that uses the module while another is loading it waits for it.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types

# what the import system reads from a module already in sys.modules: served without loading
_PASS_THROUGH = frozenset({"__spec__", "__name__", "__class__", "__dict__", "__loader__",
                           "__package__", "__file__"})
_LOCK = threading.RLock()


class _Deferred(types.ModuleType):
    def __getattribute__(self, attr: str):
        if attr not in _PASS_THROUGH:
            _load(self)
        return object.__getattribute__(self, attr)


def _load(module: _Deferred) -> None:
    with _LOCK:  # reentrant: the module's own code uses it while it runs
        state = object.__getattribute__(module, "__dict__")
        if state.get("__deferred_loading__") or type(module) is not _Deferred:
            return
        state["__deferred_loading__"] = True
        try:
            object.__getattribute__(module, "__spec__").loader.exec_module(module)
        except BaseException:
            sys.modules.pop(object.__getattribute__(module, "__name__"), None)
            raise
        finally:
            state.pop("__deferred_loading__", None)
        module.__class__ = types.ModuleType


def defer(*names: str) -> None:
    """Defer each top-level module not imported yet (one imported already stays as it is)."""
    with _LOCK:
        for name in names:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None or not hasattr(spec.loader, "exec_module") or \
                    spec.origin is None or not spec.origin.endswith(".py"):
                continue  # not installed, or not a Python source module: imported as usual
            module = importlib.util.module_from_spec(spec)
            module.__class__ = _Deferred
            sys.modules[name] = module


def is_deferred(name: str) -> bool:
    """Whether ``name`` is still a placeholder (for tests and ``make bench``)."""
    return type(sys.modules.get(name)) is _Deferred
