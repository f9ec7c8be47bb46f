"""cargohold."""
