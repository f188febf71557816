"""`python -m bench`: Tovholder under load, next to a bare Starlette + uvicorn ceiling.

See bench/__main__.py for the scenarios and docs/benchmarks.md for the figures.
"""
