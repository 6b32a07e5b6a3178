"""The REST edge: routers translate HTTP into domain calls and the results back."""
