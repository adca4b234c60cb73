"""Parameter protocol: get, set (echo checked), list, unknown names time out, NaN refused."""

from __future__ import annotations

import math

import pytest

from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.simulation.multicopter.params import DEFAULTS
from sanqin.uav_bridge.errors import ParamError, Timeout


def test_get_set_list() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        assert link.run(v.params.get("RTL_ALT", link.t_s)) == pytest.approx(1500.0)
        assert link.run(v.params.set("RTL_ALT", 2500.0, link.t_s)) == pytest.approx(2500.0)
        assert link.sim.params["RTL_ALT"] == 2500.0
        everything = link.run(v.params.list(link.t_s))
        assert set(everything) == set(DEFAULTS) and everything["RTL_ALT"] == 2500.0


def test_out_of_range_set_is_reported_and_unknown_name_times_out() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        with pytest.raises(ParamError, match="kept"):
            link.run(v.params.set("RTL_ALT", 1e7, link.t_s))
        with pytest.raises(Timeout):
            link.run(v.params.get("NO_SUCH_PARAM", link.t_s), 10)
        with pytest.raises(ParamError, match="non-finite"):
            v.params.set("RTL_ALT", math.nan)
        with pytest.raises(ParamError, match="1..16"):
            v.params.get("X" * 17)
