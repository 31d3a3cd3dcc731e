"""The pieces of `benchmarks/bench.py`: figures and reports, sample phases, memory, builds, evals.

`benchmarks/` is not part of the installed package: `bench.py` runs with `benchmarks/` first on
`sys.path` (as any script does), and `tests/unit/test_bench.py` puts it there the same way.
"""
