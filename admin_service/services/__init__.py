"""Domain logic of the admin service (no HTTP, no SQL strings)."""
