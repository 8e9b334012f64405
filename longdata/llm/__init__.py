"""The chat client every task uses (cache, retries, concurrency, Batch API, cost, dry
run) and the loopback OpenAI-compatible test server."""
