"""Built-in rule plugins, one module per family; each imports only twin.api."""
