"""The emulator's helpers exit with the test binary that started them: a test binary cannot
stop a child from a static, so the child follows its parent out (--parent-pid)."""

import os
import threading
import time


def _watch(pid):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(0.5)


def follow(pid):
    """Exit this process once `pid` is gone (checked twice a second)."""
    threading.Thread(target=_watch, args=(pid,), daemon=True).start()
