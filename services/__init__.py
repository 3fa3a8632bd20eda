"""Application services: tenants' event stores, the office registry, the CLI and the demo."""
