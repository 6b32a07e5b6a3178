"""People and machine clients: who may sign in, where (scope) and as what (roles)."""
