"""What a server holds from the start (docs/PERFORMANCE.md, "Memory"): `ranvier serve`
caps glibc's malloc arenas, so that memory one thread frees can be reused by another,
and Pillow is loaded only when an image is first read."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

# Eight threads allocate at once, then the process counts its malloc arenas
# (malloc_info prints one <heap> per arena).
_PROBE = """
import ctypes, sys, threading
from ranvier.cli import _cap_malloc_arenas
if sys.argv[1] == "capped":
    _cap_malloc_arenas()
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    keep = [bytearray(2000) for _ in range(2000)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.open_memstream.restype = ctypes.c_void_p
buf, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(buf.value.decode().count("<heap nr="))
"""


def _arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], check=True,
                         capture_output=True, text=True, env=env, timeout=60)
    return int(out.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_threads_share_two_malloc_arenas() -> None:
    assert _arenas("default") > 2  # what the cap prevents
    assert _arenas("capped") <= 2


def test_pillow_is_not_loaded_at_start_up() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import sys, ranvier.cli, ranvier.server;"
         " print(sorted(m for m in sys.modules if m.split('.')[0] == 'PIL'))"],
        check=True, capture_output=True, text=True, timeout=60,
    )
    assert out.stdout.strip() == "[]"
