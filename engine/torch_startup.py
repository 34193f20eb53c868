"""Start training in a process of TrainScope's own without importing ``torch._dynamo``.

``torch._dynamo`` is the compiler stack behind ``torch.compile``; importing it took 1.13 s here
(``import torch`` itself 1.1-1.4 s). An optimizer imports it although nothing compiles:

* ``step`` of SGD, Adam and AdamW is wrapped (``_use_grad_for_differentiable``) in code that
  imports ``torch._dynamo`` on every call, to set the grad mode and to mark a graph break that
  only means something while ``torch.compile`` traces;
* four ``Optimizer`` methods (``add_param_group``, ``zero_grad``, ``state_dict``,
  ``load_state_dict``) carry a lazy "do not trace" marker whose first call imports
  ``torch._dynamo`` to build the marker, and caches it on the method as ``__dynamo_disable``.

That import was most of the time from launch to the window's first training step. In a process
that never compiles, the window's training worker, ``skip_dynamo_import`` gives those methods
what they do outside ``torch.compile``: the step runs under the grad mode the wrapper would set,
and the markers resolve to the plain methods. Same kernels, same numbers
(``tests/engine/test_torch_startup.py``). It is process-wide, so it is never called where a
student's own code runs (``trainscope.show`` may compile), and it changes nothing when the
installed torch wraps these methods differently: the import then happens as before.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

#: The ``Optimizer`` methods PyTorch wraps with its lazy ``torch._disable_dynamo``.
LAZILY_DISABLED_METHODS = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")
_LAZY_MARKER = "_disable_dynamo.<locals>.inner"
_STEP_WRAPPER = "_use_grad_for_differentiable.<locals>._use_grad"


def skip_dynamo_import() -> bool:
    """Let SGD, Adam and AdamW train in this process without ``torch._dynamo``.

    True when every wrapper was replaced; False when dynamo is already imported (nothing to
    save) or this torch's wrappers are not the ones described above (nothing is touched).
    """
    if "torch._dynamo" in sys.modules:
        return False
    import torch

    markers = [getattr(torch.optim.Optimizer, name) for name in LAZILY_DISABLED_METHODS]
    # The classes that define the step SGD, Adam and AdamW run (AdamW may inherit Adam's).
    owners = {
        next(owner for owner in optimizer.__mro__ if "step" in vars(owner))
        for optimizer in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW)
    }
    if not all(_wraps(marker, _LAZY_MARKER) for marker in markers):
        return False
    if not all(_wraps(vars(owner)["step"], _STEP_WRAPPER) for owner in owners):
        return False  # also when an optimizer was built already (its profiling hook wraps step)
    for marker in markers:
        marker.__wrapped__.__dynamo_disable = marker.__wrapped__  # what the marker then calls
    for owner in owners:
        setattr(owner, "step", _eager_step(vars(owner)["step"].__wrapped__))  # noqa: B010
    return True


def _wraps(method: Any, wrapper_name: str) -> bool:
    """Whether ``method`` is torch's wrapper called ``wrapper_name`` around a plain function."""
    code = getattr(method, "__code__", None)
    return code is not None and code.co_qualname == wrapper_name and hasattr(method, "__wrapped__")


def _eager_step(step: Any) -> Any:
    """``step`` under the grad mode torch's wrapper sets (on only for a differentiable
    optimizer), without the graph break that only a ``torch.compile`` trace reads."""

    @functools.wraps(step)
    def eager_step(self: Any, *args: Any, **kwargs: Any) -> Any:
        import torch

        with torch.set_grad_enabled(self.defaults["differentiable"]):
            return step(self, *args, **kwargs)

    return eager_step
