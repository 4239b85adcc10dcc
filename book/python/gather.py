"""Plain asyncio.gather does not cancel the other awaitables when one fails.

    python3 book/python/gather.py

gather(fails(), slow()) raises the first failure to whoever awaits it, at once; slow() is not
cancelled and runs to its end. (With return_exceptions=True, gather waits for both and returns the
exception as a result; only TaskGroup, since Python 3.11, cancels the rest.)
"""

import asyncio


async def fails():
    await asyncio.sleep(0.05)
    raise ValueError("fails() failed")


async def slow():
    await asyncio.sleep(0.2)
    print("slow() finished: it was not cancelled")


async def main():
    slow_task = asyncio.ensure_future(slow())
    try:
        await asyncio.gather(fails(), slow_task)
    except ValueError as error:
        print(f"gather raised: {error}; slow() done yet? {slow_task.done()}; cancelled? {slow_task.cancelled()}")
    await asyncio.sleep(0.3)  # give slow() the time it needs, to see whether it goes on
    print(f"slow() done: {slow_task.done()}, cancelled: {slow_task.cancelled()}")


asyncio.run(main())
