"""The invariants of a chaos run, checked against the traffic it sent (pure: histories
in, results out). Each result: `ok`, figures, and one line per violation.

A repeat of the same derived id is explained only by a redelivery, and a redelivery
only by a fault: a fault must have started between (about) the first sighting and the
repeat. Two ids for one cause, or one id for two causes, are never explained.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from benchmarks.soak.accounting import Repeat

REDELIVERY_SLACK = 30.0
"""Seconds by which a fault may precede the first sighting of an output it made a
process publish again (the output was published, the soak's consumer saw it later)."""
SAMPLE = 10


def explained(repeat: Repeat, fault_starts: Iterable[float]) -> bool:
    return any(repeat.first_at - REDELIVERY_SLACK <= start <= repeat.at
               for start in fault_starts)


def _result(figures: dict[str, Any], violations: list[str]) -> dict[str, Any]:
    return {"ok": not violations, "figures": figures, "violations": violations}


def _flag(violations: list[str], what: str, ids: Iterable[Any]) -> None:
    ids = list(ids)
    if ids:
        sample = ", ".join(map(str, ids[:SAMPLE]))
        violations.append(f"{len(ids)} {what}: {sample}{' ...' if len(ids) > SAMPLE else ''}")


def routed_once(delivery: dict[str, Any], repeats: list[Repeat],
                fault_starts: list[float]) -> dict[str, Any]:
    """Every input on its output topic once: none lost, misrouted or unknown, none on
    both role topics, and every repeat on one topic explained by a redelivery."""
    split = [r.output_id for r in repeats if r.topic != r.first_topic]
    unexplained = [r.output_id for r in repeats
                   if r.topic == r.first_topic and not explained(r, fault_starts)]
    violations: list[str] = []
    if delivery["lost_outputs"]:
        violations.append(f"{delivery['lost_outputs']} outputs of {delivery['lost_events']} "
                          f"inputs lost: {', '.join(delivery['lost_sample'])}")
    for key in ("misrouted", "unknown"):
        if delivery[key]:
            violations.append(f"{delivery[key]} outputs {key}")
    _flag(violations, "inputs routed to both role topics", split)
    _flag(violations, "repeated outputs without a fault to explain them", unexplained)
    figures = {"lost": delivery["lost_outputs"], "repeats": len(repeats),
               "repeats_explained": len(repeats) - len(split) - len(unexplained)}
    return _result(figures, violations)


def ids_unique_or_explained(history, fault_starts: list[float]) -> dict[str, Any]:
    """Escalations: one id per cause; every output kind: one cause per id, repeats
    explained; notifications: every id derived from a cause the soak knows. (An
    assignment names no cause on the wire: it is checked for unexplained repeats.)"""
    violations: list[str] = []
    figures: dict[str, Any] = {}
    for name, ids in (("escalation", history.escalations),
                      ("assignment", history.assignments),
                      ("notification", history.notifications)):
        if name == "escalation":
            _flag(violations, f"{name} causes with two or more ids",
                  (f"{cause} -> {found}" for cause, found in ids.split_causes().items()))
        _flag(violations, f"{name} ids naming two causes", ids.clashes)
        by_design = history.raised if name == "escalation" else set()
        unexplained = [r.output_id for r in ids.repeats
                       if r.output_id not in by_design and not explained(r, fault_starts)]
        _flag(violations, f"{name} ids repeated without a fault to explain them",
              unexplained)
        figures[name] = {"ids": len(ids.first), "repeats": len(ids.repeats)}
    underived = sorted(set(history.notifications.first) - history.derivable)
    _flag(violations, "notification ids not derived from any cause the soak knows",
          underived)
    return _result(figures, violations)


def breaches_true_and_once(sla: dict[str, Any] | None) -> dict[str, Any]:
    """`sla_check`: every owed breach published under one id, none false or without a
    round of the traffic behind it."""
    if sla is None:
        return _result({}, ["no SLA check: the policy does not count time around the clock"])
    violations = []
    if sla["false"]:
        violations.append(f"{sla['false']} false warnings/breaches: "
                          f"{' | '.join(sla['false_detail'])}")
    if sla["missing_breaches"]:
        violations.append(f"{sla['missing_breaches']} owed breaches never published: "
                          f"{'; '.join(sla['missing_sample'])}")
    if sla["repeated_breach_ids"]:
        violations.append(f"{sla['repeated_breach_ids']} extra ids for owed breaches")
    if sla["unexplained"]:
        violations.append(f"{sla['unexplained']} warnings/breaches with no round of the "
                          "traffic behind them")
    return _result({k: sla[k] for k in ("owed_breaches", "false", "missing_breaches",
                                        "repeated_breach_ids", "unexplained")}, violations)


def webhooks_once(webhook_ids: set[str], deliveries: dict[str, int], acted: dict[str, int],
                  rejected: int) -> dict[str, Any]:
    """Every webhook notification recorded on kefu.notifications delivered at least once
    and acted on exactly once; nothing delivered that was not recorded; every request
    verified."""
    violations: list[str] = []
    _flag(violations, "webhook notifications never delivered",
          sorted(webhook_ids - set(deliveries)))
    _flag(violations, "notifications not acted on exactly once",
          sorted(f"{nid} x{acted.get(nid, 0)}" for nid in set(deliveries) | set(acted)
                 if acted.get(nid, 0) != 1))
    _flag(violations, "deliveries of notifications never recorded on kefu.notifications",
          sorted(set(deliveries) - webhook_ids))
    if rejected:
        violations.append(f"{rejected} webhook requests failed verification")
    figures = {"recorded": len(webhook_ids), "delivered_ids": len(deliveries),
               "requests": sum(deliveries.values()), "redelivered_ids": sum(
                   1 for n in deliveries.values() if n > 1), "rejected": rejected}
    return _result(figures, violations)
