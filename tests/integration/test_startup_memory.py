"""What a server holds on to (docs/PERFORMANCE.md, "Memory"): `ranvier serve` caps
glibc's malloc arenas, so that memory one thread frees can be reused by another, and
maps large blocks on their own, so that they go back to the system when freed; Pillow
is loaded only when an image is first read."""

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
from ranvier.cli import _tune_malloc
if sys.argv[1] == "capped":
    _tune_malloc()
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


# An 8 MiB block freed, then a 6 MiB one taken: does the latter get its own mapping
# (given back to the system when freed) or a piece of the heap? Prints the bytes mapped.
# (Blocks this large: a smaller one may fit a hole the imports left, mapped or not.)
_MMAP_PROBE = """
import ctypes, sys
from ranvier.cli import _tune_malloc
if sys.argv[1] == "tuned":
    _tune_malloc()
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd"
                " usmblks fsmblks uordblks fordblks keepcost".split()]
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.mallinfo2.restype = Info
libc.free(ctypes.c_void_p(libc.malloc(8 << 20)))
before = libc.mallinfo2().hblkhd
block = libc.malloc(6 << 20)
print(libc.mallinfo2().hblkhd - before)
"""


def _run_probe(probe: str, mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", probe, mode], check=True,
                         capture_output=True, text=True, env=env, timeout=60)
    return int(out.stdout)


def _arenas(mode: str) -> int:
    return _run_probe(_PROBE, mode)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_threads_share_two_malloc_arenas() -> None:
    assert _arenas("default") > 2  # what the cap prevents
    assert _arenas("capped") <= 2


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_large_blocks_are_mapped_whatever_was_freed_before() -> None:
    assert _run_probe(_MMAP_PROBE, "default") == 0  # the heap, where it stays
    assert _run_probe(_MMAP_PROBE, "tuned") >= 6 << 20


@pytest.mark.parametrize("package", ["PIL", "asyncpg"])
def test_pillow_and_asyncpg_are_not_loaded_at_start_up(package: str) -> None:
    # Pillow loads with the first image; asyncpg only when PostgreSQL is configured.
    out = subprocess.run(
        [sys.executable, "-c", "import sys, ranvier.cli, ranvier.server;"
         f" print(sorted(m for m in sys.modules if m.split('.')[0] == {package!r}))"],
        check=True, capture_output=True, text=True, timeout=60,
    )
    assert out.stdout.strip() == "[]"
