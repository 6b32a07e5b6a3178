"""Business rules and use cases, shared by the REST and GraphQL edges.

Imports neither FastAPI nor Strawberry.
"""
