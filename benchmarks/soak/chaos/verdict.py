"""The chaos part of the end-of-run summary, and the verdict (which invariants broke)."""

from __future__ import annotations

from typing import Any


def chaos_lines(report: dict[str, Any]) -> list[str]:
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(report["fault_counts"].items()))
    lines = ["", f"  chaos (seed {report['chaos']['seed']}): {len(report['faults'])} faults: "
                 f"{counts or 'none'}"]
    for name, result in report["invariants"].items():
        figures = ", ".join(f"{k} {v}" for k, v in result["figures"].items())
        lines.append(f"    {'ok  ' if result['ok'] else 'FAIL'} {name}: {figures}")
        lines += [f"         {violation}" for violation in result["violations"]]
    return lines


def broken(report: dict[str, Any]) -> list[str]:
    """`invariant: violation` for every violation of the run (none without --chaos)."""
    return [f"{name}: {violation}"
            for name, result in (report.get("invariants") or {}).items()
            for violation in result["violations"]]
