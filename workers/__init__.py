"""RQ jobs that fan alerts out and hand deliveries to channels."""
