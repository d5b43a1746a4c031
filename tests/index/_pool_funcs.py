"""Module-level functions for the pool tests (spawned workers must import them)."""

import os
import time


def square_or_fail(x):
    if x == "boom":
        raise ValueError("bad item boom")
    if x == "sleep":
        time.sleep(60)
    if x == "die":
        os._exit(7)
    return x * x


def unpicklable_error(x):
    class Local(Exception):
        pass

    raise Local(f"local failure {x}")
