"""GraphQL types, one module per area; each module's ``<Area>Query`` holds that area's root fields."""
