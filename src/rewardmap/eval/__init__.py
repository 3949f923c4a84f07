"""`rewardmap eval`: a model answers a benchmark (an OpenAI-compatible server in `api`, a local
model through transformers, or vLLM: the `backends` package), predictions are stored as
they come (`store`), scored with `rewardmap.metrics`, and reported (`report`, `compare`)."""
