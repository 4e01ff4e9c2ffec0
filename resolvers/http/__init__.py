"""The HTTP edge: middleware, REST routes, the error envelope."""
