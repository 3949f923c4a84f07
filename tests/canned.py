"""A local OpenAI-compatible server with canned answers, for the evaluation tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from rewardmap.eval.backends.messages import image_data_url
from rewardmap.questions.prompts import route_answer
from rewardmap.train.data import target_text


class CannedAPI:
    """Answers each (map, question) with a canned text; `fail` questions get HTTP 400."""

    def __init__(self, answers: dict[tuple[str, str], str]):
        self.answers, self.fail, self.requests = answers, set(), []
        self.delay = 0.0  # seconds before each answer
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": "canned"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                image, text = body["messages"][-1]["content"]
                api.requests.append(body)
                if text["text"] in api.fail:
                    return self._send(400, {"error": {"message": "image too large for [this] model"}})
                time.sleep(api.delay)
                content = "<think>looking</think>" + api.answers[(image["image_url"]["url"], text["text"])]
                self._send(200, {"choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": content}}]})

            def _send(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def right_answers(data: Path) -> dict:
    """(map data URL, question) -> the right answer, in the form asked, to DATA's questions."""
    answers = {}
    for line in (data / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        url = image_data_url(data / r["figure"])
        answers[(url, r["question"])] = route_answer(r["routes"][0]) if r["type"] == "planning" else target_text(r)
        if r["type"] == "planning":  # the long question asks the via stops' count or list too
            kind = "count" if "Number of Via Stops:" in r["question_long"] else "list"
            answers[(url, r["question_long"])] = route_answer(r["routes"][0], long=kind)
    return answers
