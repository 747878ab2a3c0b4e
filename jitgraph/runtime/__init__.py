"""Running plans: the session, the variable store, the NumPy reference executor."""
