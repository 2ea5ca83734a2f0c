"""A vendor's protocol is bound once and reused by every case and check of that vendor."""

from __future__ import annotations

from contracts.protocols import protocol_for
from providers.vendors import load_profile


def test_the_same_profile_gets_the_same_bound_protocol() -> None:
    profile = load_profile("glm")
    assert protocol_for(profile) is protocol_for(profile)


def test_another_profile_gets_its_own_binding() -> None:
    profile = load_profile("glm")
    changed = profile.model_copy(update={"default_model": "glm-other"})
    bound = protocol_for(changed)
    assert bound is not protocol_for(profile)
    assert bound.profile is changed
