"""TMDb sync tasks (wrappers over movies.services)."""
