"""Real parts for tests: Redis and database servers, provider stand-ins."""
