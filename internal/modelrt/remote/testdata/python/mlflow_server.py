"""A tiny server speaking MLflow's scoring protocol (GET /ping, POST
/invocations with a dataframe_split body), with the standard library only,
for Ferry's external-runtime tests. Its "model" answers, per row, the sum of
the values present and the count of missing (null) ones; a row whose column
n is 13 is refused with a 400 in MLflow's error format."""

import argparse
import json
import math
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path in ("/ping", "/health"):
            self._answer(200, "\n", "application/json")
        else:
            self._answer(404, json.dumps({"error_code": "NOT_FOUND", "message": "no route " + self.path}))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/invocations":
            self._answer(404, json.dumps({"error_code": "NOT_FOUND", "message": "no route"}))
            return
        try:
            split = json.loads(body)["dataframe_split"]  # Python reads NaN/Infinity tokens
            cols = split["columns"]
            preds = []
            for row in split["data"]:
                rec = dict(zip(cols, row))
                if rec.get("n") == 13:
                    self._answer(400, json.dumps({"error_code": "BAD_REQUEST", "message": "unlucky n"}))
                    return
                present = [v for v in row if v is not None]
                preds.append([math.fsum(present), len(row) - len(present)])
        except (KeyError, TypeError, ValueError) as e:
            self._answer(400, json.dumps({"error_code": "BAD_REQUEST", "message": str(e)}))
            return
        self._answer(200, json.dumps({"predictions": preds}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    print("serving on port", args.port, flush=True)
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
