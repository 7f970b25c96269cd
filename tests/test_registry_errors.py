"""A broken plugin entry point is one line naming it, never a traceback."""

from importlib.metadata import EntryPoint

import pytest

from harness.adapters import registry
from harness.errors import UserError


@pytest.mark.parametrize("target, says", [
    ("harness.records:TASKS", "is not a harness.adapters.base.Adapter subclass"),  # loads, but not an adapter
    ("harness.records:NoSuchName", "failed to load (AttributeError"),             # the module lacks the object
])
def test_a_broken_entry_point_is_a_user_error(monkeypatch, target, says):
    broken = EntryPoint(name="broken", value=target, group=registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda: {"broken": broken})
    with pytest.raises(UserError) as caught:
        registry.load_class("broken")
    assert says in str(caught.value) and "\n" not in str(caught.value) and caught.value.field == "adapter"
