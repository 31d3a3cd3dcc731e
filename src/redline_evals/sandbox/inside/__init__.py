"""Scripts sent into a sandbox and run there as root (standard library only)."""
