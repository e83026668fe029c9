"""A stand-in for the Kwaliteitsregister Paramedici lookup: the reference of the verifier
contract for development, and the KP the CI's API fuzzing run uses.

GET /registrations/<kp_number>: numbers ending in an even digit are registered
(kwaliteitsgeregistreerd, 2024-01-01 to 2028-12-31); other numbers are unknown (404).
Usage: kp_stand_in.py PORT   (listens on 127.0.0.1; Python 3 standard library only)
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server naming)
        prefix = "/registrations/"
        number = self.path[len(prefix):] if self.path.startswith(prefix) else ""
        if number.isdigit() and int(number[-1]) % 2 == 0:
            body = json.dumps({
                "kp_number": number,
                "status": "kwaliteitsgeregistreerd",
                "valid_from": "2024-01-01",
                "valid_until": "2028-12-31",
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
