"""Command-line interface: ``lambertian COMMAND ...`` (see ``lambertian --help``)."""
