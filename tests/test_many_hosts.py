"""Several real hosts (one sshd each on 127.0.0.2..N) in parallel; one of them dead."""

from __future__ import annotations

import time
from collections.abc import Callable

from diagkit.probes.registry import builtin_probes, select
from diagkit.probes.runner import run_many
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshServer, free_port


def test_parallel_hosts_and_a_dead_one(sshd: SshServer, sshd_factory: Callable[..., SshServer]) -> None:
    servers = [sshd_factory(f"127.0.0.{n}", client_key_path=sshd.client_key_path) for n in (2, 3, 4)]
    dead_port = free_port("127.0.0.5")
    targets = [
        SshTarget(host=s.address, port=s.port, user="root", identity_files=(str(s.client_key_path),),
                  label=s.address)
        for s in servers
    ] + [SshTarget(host="127.0.0.5", port=dead_port, user="root", label="dead")]
    probes = select(builtin_probes(), ["system", "cpu", "disk"])

    started = time.monotonic()
    snaps = run_many(targets, probes, lambda t: SshTransport.connect(t, accept_new_host_key=True),
                     label=lambda t: t.label)
    elapsed = time.monotonic() - started

    assert [s.host for s in snaps] == ["127.0.0.2", "127.0.0.3", "127.0.0.4", "dead"]
    for snap in snaps[:3]:
        assert snap.ok and all(r.ok for r in snap.results), snap.to_dict()
    assert snaps[3].error_kind == "ConnectionRefused"
    assert "127.0.0.5" in (snaps[3].error or "")
    # Generous bound: a refused host costs nothing, so the others never wait for it.
    assert elapsed < 30
