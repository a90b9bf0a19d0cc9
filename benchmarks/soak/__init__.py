"""Soak test: realistic traffic at a fixed rate against a running kefu stack.

    python -m benchmarks.soak --embedded --rate 400 --minutes 10 --report soak.json
    python -m benchmarks.soak --rate 300 --minutes 30 --metrics http://127.0.0.1:8081

A development tool of the source checkout, not a `kefu` command: the wheel and the image
leave `benchmarks/` out, so the product CLI does not name it.

The traffic is a population of shops, each with its agents, playing little stories in
real time: shift start (every agent goes online), buyer chats in Chinese (some
traditional) and English with agent replies (most within the 3-minute response SLA, a
few late, a few never), closes, orders from creation to delivery with logistics scans,
changes, delays and cancellations, after-sale cases and reviews, and agent breaks. A new
story starts whenever no step of a running story is due, so the rate is exact and the
mix is what the stories make it. Every id contains the run id, every event is valid
under `contracts.parse_inbound` and keyed as the contract says.

Measured, printed every `--interval` seconds and summarised at the end:
- consumer lag per service group: the sum over partitions of `kefu_consumer_lag` on
  each service's /metrics (scraped every 2 s; the interval shows the maximum);
- end-to-end latency: the soak's send time -> the time its own consumer receives the
  output on kefu.role.* (or kefu.orders), p50/p95/p99;
- escalation lateness: `fired_at - deadline` of breached level-2 escalations on
  kefu.escalations (the deadline itself), for the run's subjects;
- VmRSS/VmHWM and CPU of every service process (pids known with --embedded, else found
  from the /metrics port in /proc), the broker, Redis and the soak process;
- Redis used_memory and keys (with a key census by kind at the end);
- lost and duplicated outputs: every event must appear exactly once on its output
  topic (agent.status once per role it names); the drain waits for stragglers.

Only loopback addresses are accepted: this tool never sends anywhere but 127.0.0.1.
"""

from benchmarks.soak.accounting import EscalationLog, Ledger, event_key_of, expected_slots
from benchmarks.soak.cli import main, main_from_args, run_attached
from benchmarks.soak.constants import ROLE_SLOT, ROLE_TOPICS, WATCHED_TOPICS
from benchmarks.soak.embedded import run_embedded
from benchmarks.soak.latency import percentile, summarize
from benchmarks.soak.loopback import check_loopback, is_loopback
from benchmarks.soak.metrics_text import metric_by, metric_samples, metric_total
from benchmarks.soak.processes import load_average, pid_listening_on, proc_cpu, proc_memory
from benchmarks.soak.redis_keys import key_kind
from benchmarks.soak.runner import Soak
from benchmarks.soak.summary import format_summary
from benchmarks.soak.targets import Target, discover
from benchmarks.soak.traffic import Traffic

__all__ = [
    "ROLE_SLOT", "ROLE_TOPICS", "WATCHED_TOPICS", "EscalationLog", "Ledger", "Soak", "Target",
    "Traffic", "check_loopback", "discover", "event_key_of", "expected_slots", "format_summary",
    "is_loopback", "key_kind", "load_average", "main", "main_from_args", "metric_by",
    "metric_samples", "metric_total", "percentile", "pid_listening_on", "proc_cpu",
    "proc_memory", "run_attached", "run_embedded", "summarize",
]
