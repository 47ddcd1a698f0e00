"""gridhan certs."""
