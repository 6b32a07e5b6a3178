"""The GraphQL API (``/graphql``): Strawberry types over the same domain services as REST."""
