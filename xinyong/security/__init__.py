"""Security operations: personal-data key rotation, backup and restore."""
