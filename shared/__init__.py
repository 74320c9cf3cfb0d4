"""Code both services import: settings, errors, reference data, crypto, DB and Redis helpers."""
