"""Problem kinds: how the cases of one kind of problem are called, what is expected of them and
how the answers are judged. The engine knows kinds only through `grader.kinds.base.Kind` and
this registry, keyed by the manifest's `check`.
"""
from __future__ import annotations


def kind_of(name: str):
    """The kind object for a manifest's `check` value."""
    from grader.kinds.property import PropertyKind
    from grader.kinds.sampler import SamplerKind
    from grader.kinds.value import ValueKind
    kinds = {"value": ValueKind(), "sampler": SamplerKind(), "property": PropertyKind()}
    return kinds[name]
