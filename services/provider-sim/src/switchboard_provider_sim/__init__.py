"""Provider simulator (dev, test and load tool; not deployed). Follows ``shared/specs/providers``
and shares no code with the adapters, so each checks the other (ARCHITECTURE §6)."""
