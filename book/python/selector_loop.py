"""What asyncio's default event loop is made of, on this machine.

    python3 book/python/selector_loop.py
"""

import asyncio
import selectors

loop = asyncio.new_event_loop()
print("asyncio's default loop:", type(loop).__name__, "| a SelectorEventLoop:", isinstance(loop, asyncio.SelectorEventLoop))
print("its selector:", type(loop._selector).__name__)  # a private attribute, read only to show it
print("selectors.DefaultSelector:", selectors.DefaultSelector.__name__)
loop.close()
