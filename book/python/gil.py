"""Python threads and the GIL: blocking calls overlap, computing does not.

    python3 book/python/gil.py

Four threads each make a blocking call (time.sleep, which, like a socket's recv, releases the
GIL while it waits in the kernel), then four threads each compute. Each line compares the four
threads' wall time with one thread's: about 1x means the threads ran at once, about 4x means one
after another.
"""

import threading
import time

THREADS = 4


def blocking_call():
    time.sleep(0.2)  # the GIL is released for the length of the call


def compute():
    total = 0
    for i in range(2_000_000):  # pure Python bytecode: the GIL is held throughout
        total += i


def wall(work, threads):
    started = time.perf_counter()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started


for name, work in [("blocking call", blocking_call), ("computing", compute)]:
    ratio = wall(work, THREADS) / wall(work, 1)
    verdict = "at once" if ratio < 2 else "one after another"
    print(f"{THREADS} threads {name}: {verdict} ({THREADS} take {'under' if ratio < 2 else 'over'} twice one's time)")
