"""Every scenario that expects an answer asks for something every vendor accepts: a request
its own refusal rules would turn away (a cap below the Responses API's minimum of 16, say)
could never be recorded live, and would certify the refusal instead of the answer. The one
exception is a request feature the vendor's profile declares it cannot take, on a scenario
that judges that feature: there the refusal before sending is what the clause certifies."""

from __future__ import annotations

import pytest

from contracts.certification import applicable_cases
from contracts.checks_features import JUDGES_REFUSALS
from contracts.protocols import protocol_for
from providers import InvalidRequestError, from_profile
from providers.request_features import refusal
from providers.sdk_provider import SdkProvider
from providers.vendors import available_vendors, load_profile


@pytest.mark.parametrize("vendor", available_vendors())
def test_no_answer_scenario_is_refused_by_the_vendor(vendor: str) -> None:
    profile = load_profile(vendor)
    provider = from_profile(profile, api_key="k", base_url="http://127.0.0.1:9/v1")
    assert isinstance(provider, SdkProvider)
    protocol = protocol_for(profile)
    refused = []
    for case, _ in applicable_cases(profile, profile.capabilities):
        if case.scenario.fault is not None:
            continue
        request = case.scenario.request.build()
        if JUDGES_REFUSALS & set(case.scenario.clauses) and refusal(
            request,
            profile.request.for_model(profile.default_model),
            profile.capabilities,
            vendor=vendor,
            model=profile.default_model,
            max_tokens=request.max_tokens,
        ):
            continue
        for stream in (True, False):
            try:
                body = provider._builder.body(request, stream=stream)
            except InvalidRequestError as exc:
                refused.append(f"{case.id} (stream={stream}): our provider refuses: {exc}")
                continue
            rule = protocol.suite.rejection(body)
            if rule is not None:
                refused.append(f"{case.id} (stream={stream}): the vendor refuses {rule.describe()}")
    assert refused == []
