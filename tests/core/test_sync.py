import asyncio

from forgekit.core.sync import run_sync


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def test_run_sync_without_a_loop():
    assert run_sync(double(21)) == 42


def test_run_sync_inside_a_running_loop_like_a_jupyter_cell():
    async def cell() -> int:
        # a sync API called from inside a running loop must not raise
        return run_sync(double(5))

    assert asyncio.run(cell()) == 10


def test_run_sync_propagates_errors_inside_a_loop():
    async def boom() -> None:
        raise ValueError("nope")

    async def cell() -> str:
        try:
            run_sync(boom())
        except ValueError as e:
            return str(e)
        return "no error"

    assert asyncio.run(cell()) == "nope"


def test_run_sync_never_formats_the_result():
    # asyncio.run formats its main task (result included) on the way out; a result
    # whose repr is expensive (EvalResults computes its statistics) must not pay for it
    class Costly:
        reprs = 0

        def __repr__(self) -> str:
            Costly.reprs += 1
            return "Costly()"

    async def make() -> Costly:
        return Costly()

    out = run_sync(make())
    assert isinstance(out, Costly) and Costly.reprs == 0
