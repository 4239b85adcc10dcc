"""The four callbacks of stage 3's turn_order example, on asyncio's loop.

    python3 book/python/turn_order.py

asyncio moves the timers that are due to the end of its ready queue, behind the callbacks already
there, so a call_later(0) runs after every call_soon made before the turn.
"""

import asyncio


def main():
    loop = asyncio.new_event_loop()

    def a():
        print("A: call_soon")
        loop.call_soon(lambda: print("C: call_soon from inside A"))

    loop.call_soon(a)
    loop.call_later(0, lambda: print("T: call_later(0)"))
    loop.call_soon(lambda: print("B: call_soon"))
    loop.call_later(0.01, loop.stop)
    loop.run_forever()
    loop.close()


main()
