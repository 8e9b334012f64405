"""Serve a trained adapter (or any local model folder) on an OpenAI-compatible endpoint.

For smoke runs and small checks on one machine, so that `longdata eval run` can ask a
model trained here without vLLM: greedy (or sampled) generation with transformers, one
request at a time, on 127.0.0.1. For real evaluation serve the merged model with vLLM
(see the README).

    python -m longdata.trainer.serve ADAPTER_OR_MODEL_DIR --port 8000
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_NEW_TOKENS = 1024  # per request at most, whatever the client asks


def load(path: str):
    """(model, tokenizer) of an adapter folder (base + YaRN + adapter) or a model folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .model import load_trained

    folder = Path(path)
    model = load_trained(path) if (folder / "adapter_config.json").is_file() else \
        AutoModelForCausalLM.from_pretrained(path)
    return model.eval(), AutoTokenizer.from_pretrained(path)


class Generator:
    """One generation at a time (a CPU or a single GPU runs them one by one anyway)."""

    def __init__(self, model, tokenizer, name: str):
        self.model, self.tokenizer, self.name = model, tokenizer, name
        self.lock = threading.Lock()

    def reply(self, body: dict) -> dict:
        import torch

        ids = self.tokenizer.apply_chat_template(body["messages"], add_generation_prompt=True, return_tensors="pt",
                                                 return_dict=True)["input_ids"]
        new = min(int(body.get("max_tokens") or 256), MAX_NEW_TOKENS)
        temperature = float(body.get("temperature") or 0.0)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        with self.lock, torch.no_grad():
            if "seed" in body:
                torch.manual_seed(int(body["seed"]))
            out = self.model.generate(ids.to(self.model.device), max_new_tokens=new,
                                      pad_token_id=self.tokenizer.pad_token_id, **sampling)
        completion = out[0, ids.shape[1]:]
        text = self.tokenizer.decode(completion, skip_special_tokens=True)
        return {"id": f"chatcmpl-{time.time_ns()}", "object": "chat.completion", "created": int(time.time()),
                "model": self.name, "choices": [{"index": 0, "finish_reason": "stop" if len(completion) < new else
                                                  "length", "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": int(ids.shape[1]), "completion_tokens": int(len(completion)),
                          "total_tokens": int(ids.shape[1] + len(completion))}}


def handler(gen: Generator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args) -> None:
            pass

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": gen.name, "object": "model"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self._send(200, gen.reply(body))
            except (ValueError, KeyError, TypeError) as err:
                self._send(400, {"error": {"message": f"bad request: {err}"}})

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m longdata.trainer.serve", description=__doc__.splitlines()[0])
    parser.add_argument("model", help="adapter folder (`longdata train --output`) or model folder")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--name", default=None, help="model name the server answers to (default: the folder name)")
    args = parser.parse_args(argv)
    model, tokenizer = load(args.model)
    gen = Generator(model, tokenizer, args.name or Path(args.model).name)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(gen))
    print(f"serving {args.model} as {gen.name!r} on http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
