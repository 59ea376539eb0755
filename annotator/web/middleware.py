"""Server-Timing: every response says how long Warrant spent on it.

Browsers' developer tools show the figure beside the network time, and the
benchmarks read it to measure server time apart from the client's own work
(https://www.w3.org/TR/server-timing/).
"""

from __future__ import annotations

import time


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={elapsed_ms:.2f}"
        return response
