"""What every quarantine backend promises (playbooks/providers/isolation.py), as one base
test class subclassed per backend, which provides:

- `make_isolator`: (spares_allowed) -> the backend under test;
- `in_service`: (name) -> does it take traffic now (read from the system, not the backend);
- `alive`: (name) -> is it still there to debug;
- `last_one`: () -> leaves TARGET the only one serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar

import pytest

from bot.core.errors import SeawallError
from playbooks.providers.isolation import Isolator

T = TypeVar("T")
MakeIsolator = Callable[[], Isolator]


def run(isolator: Isolator, act: Callable[[Isolator], Awaitable[T]]) -> T:
    async def go() -> T:
        try:
            return await act(isolator)
        finally:
            await isolator.aclose()

    return asyncio.run(go())


class IsolatorContract:
    TARGET: ClassVar[str]

    def test_check_says_where_the_target_stands_and_changes_nothing(
        self, make_isolator: MakeIsolator, in_service: Callable[[str], bool]
    ) -> None:
        said = run(make_isolator(), lambda i: i.check(self.TARGET))
        assert self.TARGET in said
        assert in_service(self.TARGET)

    def test_isolate_takes_it_out_keeps_it_alive_and_restore_brings_it_back_each_twice(
        self,
        make_isolator: MakeIsolator,
        in_service: Callable[[str], bool],
        alive: Callable[[str], bool],
    ) -> None:
        facts: dict[str, str] = {}
        for _ in range(2):  # a re-run after a crash changes nothing more
            run(make_isolator(), lambda i: i.isolate(self.TARGET, facts))
            assert not in_service(self.TARGET)
            assert alive(self.TARGET)
        assert self.TARGET in run(make_isolator(), lambda i: i.report(self.TARGET))
        for _ in range(2):
            run(make_isolator(), lambda i: i.restore(self.TARGET, dict(facts)))
            assert in_service(self.TARGET)

    def test_the_last_one_serving_is_refused_when_checked_and_when_acting(
        self,
        make_isolator: MakeIsolator,
        in_service: Callable[[str], bool],
        last_one: Callable[[], None],
    ) -> None:
        last_one()
        refused = r"(last|only).*[Nn]othing was changed"
        with pytest.raises(SeawallError, match=refused):
            run(make_isolator(), lambda i: i.check(self.TARGET))
        with pytest.raises(SeawallError, match=refused):
            run(make_isolator(), lambda i: i.isolate(self.TARGET, {}))
        assert in_service(self.TARGET)

    def test_an_unknown_target_is_named(self, make_isolator: MakeIsolator) -> None:
        with pytest.raises(SeawallError, match="nope-9"):
            run(make_isolator(), lambda i: i.check("nope-9"))
