"""The ``cargohold`` command line (entry point :func:`cargohold.cli.main.main`)."""
