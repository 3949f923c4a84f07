"""The evaluation backends: what answers a benchmark's questions for `run_eval`.

`base` states what every backend is (the `Backend` protocol, its `RunSummary`, the helpers
the backends share); one module per backend: `api` (an OpenAI-compatible server, through the
HTTP `client` with the request `messages`), `local` (transformers) and `vllm` (vLLM offline);
`factory` makes the one `rewardmap eval`'s options name. Nothing heavy is imported here: the
local backends load torch and the model only when they build one.
"""
