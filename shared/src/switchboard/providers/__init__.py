"""Provider adapters (ARCHITECTURE §6): one package per provider, the same small surface each."""
