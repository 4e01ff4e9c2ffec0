"""A small in-process metrics registry, exposed in the Prometheus text format.

Counters and a latency histogram per process; scrape each process (or sum them in
Prometheus). Kept dependency-free on purpose: the hot path is a dict increment.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str], int] = defaultdict(int)
        self._buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self._latency_sum = 0.0
        self._latency_count = 0

    def observe_request(self, method: str, status: int, seconds: float) -> None:
        klass = f"{status // 100}xx"
        index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        with self._lock:
            self.requests[(method, klass)] += 1
            self._buckets[index] += 1
            self._latency_sum += seconds
            self._latency_count += 1

    def render(self, gauges: dict[str, list[tuple[dict[str, str], float]]]) -> str:
        lines = [
            "# HELP gatehouse_http_requests_total HTTP requests by method and status class.",
            "# TYPE gatehouse_http_requests_total counter",
        ]
        with self._lock:
            for (method, klass), count in sorted(self.requests.items()):
                lines.append(
                    f'gatehouse_http_requests_total{{method="{method}",status="{klass}"}} {count}'
                )
            lines += [
                "# HELP gatehouse_http_request_duration_seconds Request latency.",
                "# TYPE gatehouse_http_request_duration_seconds histogram",
            ]
            running = 0
            for bound, count in zip(LATENCY_BUCKETS, self._buckets, strict=False):
                running += count
                lines.append(
                    f'gatehouse_http_request_duration_seconds_bucket{{le="{bound}"}} {running}'
                )
            lines.append(
                f'gatehouse_http_request_duration_seconds_bucket{{le="+Inf"}} {self._latency_count}'
            )
            lines.append(f"gatehouse_http_request_duration_seconds_sum {self._latency_sum:.6f}")
            lines.append(f"gatehouse_http_request_duration_seconds_count {self._latency_count}")
        for name, samples in gauges.items():
            lines.append(f"# TYPE {name} gauge")
            for labels, value in samples:
                rendered = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                lines.append(f"{name}{{{rendered}}} {value:g}")
        return "\n".join(lines) + "\n"


REGISTRY = Metrics()
