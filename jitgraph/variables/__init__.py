"""Variables: ``Variable``, ``get_variable``, scopes, initializers, collections of variables."""
