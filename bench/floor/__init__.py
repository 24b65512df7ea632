"""The framework floor: a bare graphene-django endpoint served exactly like ours.

No middleware, no database, no authentication, no throttling, no validation rules beyond
graphql-core's: what graphene-django plus Django's request cycle cost on this machine. Every
serving figure in BENCHMARKS.md is a ratio against it, measured in the same run.
"""
