"""Shared fixtures for the message converter tests: rosbags' Jazzy factory and a CDR round trip."""

from __future__ import annotations

import pytest

from sanqin.msgs.factory import default_factory


@pytest.fixture(scope="session")
def factory():
    return default_factory()


@pytest.fixture(scope="session")
def cdr(factory):
    """Serialize a message to CDR bytes and read it back (as a subscriber or a bag reader would)."""

    def roundtrip(msg):
        return factory.deserialize(factory.serialize(msg), msg.__msgtype__)

    return roundtrip
