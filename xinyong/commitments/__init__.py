"""See docs/rights.md."""
