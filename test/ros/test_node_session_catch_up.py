"""An init_target catch-up on a tracker slower than the cameras ends: it tracks at most twice the
buffered pairs, then the worker goes on from the newest pair.

Found running node-bench on a loaded machine (load 8 on 2 cores): "caught up through 6068 buffered
pairs in 129.92 s", the request unanswered for two minutes while the catch-up chased the present.
"""

from __future__ import annotations

import re

from helpers.session_rig import BOX, Rig


def test_a_catch_up_slower_than_the_cameras_ends():
    rig = Rig(buffer_seconds=1.0)
    rig.frames(20)  # 20 pairs buffered (1 s at the rig's 20 Hz)
    search = rig.network.search

    def slow_search(feeds):  # while one pair is tracked, two more arrive
        rig.frames(2)
        return search(feeds)

    rig.network.search = slow_search
    ok, answer = rig.session.init_target(BOX, rig.stamp_ns - 19 * 50_000_000)
    assert ok, answer
    steps = int(re.search(r"caught up through (\d+) buffered pairs", answer).group(1))
    assert 19 <= steps <= 40, answer
    rig.network.search = search
    assert rig.work_through() == 1  # the worker takes the newest pair
    assert rig.outputs.results[-1].pair.stamp_ns == rig.stamp_ns  # the newest visible frame
