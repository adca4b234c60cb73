"""Helpers the bench scripts share: where a run happened, a free UDP port."""

from __future__ import annotations

import os
import platform
import socket


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (else the platform's processor or machine string)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line about where this ran."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}, load {load:.1f}")


def free_udp_port() -> int:
    """A loopback UDP port nobody holds right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
