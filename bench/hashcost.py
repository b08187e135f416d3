"""Equal password-hashing cost for both servers: Synapse hashes with bcrypt
(`bcrypt_rounds`), Ranvier with argon2id (`password_config.argon2`). We measure the
CPU time of one bcrypt hash at the chosen rounds with Synapse's own interpreter and
bcrypt, then pick the argon2id memory cost (time cost 1, one lane) whose hash costs the
same CPU time here."""

from __future__ import annotations

import subprocess
import time
from dataclasses import asdict, dataclass

import argon2

_SAMPLES = 20
_BCRYPT_PROBE = """
import sys, time, bcrypt
rounds, samples = int(sys.argv[1]), int(sys.argv[2])
bcrypt.hashpw(b"warm-up", bcrypt.gensalt(rounds))
start = time.process_time()
for _ in range(samples):
    bcrypt.hashpw(b"correct horse battery", bcrypt.gensalt(rounds))
print((time.process_time() - start) / samples * 1000)
"""


@dataclass(frozen=True)
class HashCost:
    bcrypt_rounds: int
    bcrypt_ms: float
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_ms: float

    def to_json(self) -> dict[str, float]:
        return asdict(self)


def bcrypt_ms(synapse_python: str, rounds: int) -> float:
    out = subprocess.run(
        [synapse_python, "-c", _BCRYPT_PROBE, str(rounds), str(_SAMPLES)],
        check=True, capture_output=True, text=True, timeout=120,
    )
    return float(out.stdout.strip())


def argon2_ms(memory_kib: int, time_cost: int = 1) -> float:
    hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
    hasher.hash("warm-up")
    start = time.process_time()
    for _ in range(_SAMPLES):
        hasher.hash("correct horse battery")
    return (time.process_time() - start) / _SAMPLES * 1000


def calibrate(synapse_python: str, rounds: int) -> HashCost:
    target = bcrypt_ms(synapse_python, rounds)
    # argon2id's cost is close to linear in its memory; two proportional steps land
    # within a few percent. 8 KiB is the smallest memory argon2 accepts for one lane.
    memory = 1024
    for _ in range(2):
        memory = max(8, round(memory * target / argon2_ms(memory)))
    return HashCost(rounds, target, 1, memory, argon2_ms(memory))
