"""Model training tasks (wrappers over recs.services)."""
