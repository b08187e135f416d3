"""The benchmark suite: Ranvier and Synapse side by side on the same machine, in one
run, driven by the same client-server workload (docs/PERFORMANCE.md).

Run it with `scripts/bench` (or `python -m bench`). Nothing here is imported by the
server; the driver only speaks HTTP to both servers, over loopback.
"""
