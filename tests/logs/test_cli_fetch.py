"""``diagkit logs fetch HOST:PATH`` and ``diagkit logs HOST:PATH`` end to end: the real entry
point in a subprocess, a real sshd reached through ~/.ssh/config (alias ``testhost``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from diagkit import config
from tests.sshd_fixture import SshClientEnv

LOG = ("2024-03-01 10:00:00,001 INFO shop: started\n"
       "2024-03-01 10:00:05,002 ERROR shop: writing order 1234 failed\n"
       "OSError: [Errno 28] No space left on device\n"
       "2024-03-01 10:01:00,003 ERROR shop: connection to 127.0.0.1:5432 refused\n"
       "2024-03-01 10:02:00,004 INFO shop: done\n")


def dk(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagkit", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def cached(path: Path) -> Path:
    return config.data_dir() / "cache" / "fetched" / "testhost" / str(path).lstrip("/")


def test_fetch_then_open_a_remote_log_like_a_local_one(ssh_client_env: SshClientEnv,
                                                       tmp_path: Path) -> None:
    log = tmp_path / "shop app" / "app.log"
    log.parent.mkdir()
    log.write_text(LOG)
    fetched = dk("logs", "fetch", f"{ssh_client_env.alias}:{log}")
    assert fetched.returncode == 0, fetched.stderr
    local = cached(log)
    assert fetched.stdout == f"{ssh_client_env.alias}:{log} -> {local}\n"
    assert local.read_text() == LOG and (local.stat().st_mode & 0o777) == 0o600
    assert "Fetched testhost:" in fetched.stderr and f"({len(LOG)} B)" in fetched.stderr
    # 'diagkit logs HOST:PATH' = fetch, then the very output of 'diagkit logs FILE'.
    remote = dk("logs", f"{ssh_client_env.alias}:{log}", "--level", "error")
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == dk("logs", str(local), "--level", "error").stdout
    assert "No space left on device" in remote.stdout and "refused" in remote.stdout
    assert "INFO" not in remote.stdout


def test_the_size_cap_refuses_with_a_clear_message(ssh_client_env: SshClientEnv,
                                                   tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    big.write_text(LOG * 1000)   # 256 KiB
    result = dk("logs", "fetch", f"{ssh_client_env.alias}:{big}", "--max-size", "100k")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"diagkit: {big} on testhost is 255.9 KiB, over the size cap of 100.0 KiB: "
        "nothing was copied. Raise the cap (--max-size) if you need the whole file, or look at "
        f"its end with 'diagkit run testhost -- tail -n 5000 {big}'.")
    assert not cached(big).parent.exists() or os.listdir(cached(big).parent) == []
    bad = dk("logs", "fetch", f"{ssh_client_env.alias}:{big}", "--max-size", "lots")
    assert bad.returncode == 2 and "not a size: 'lots'" in bad.stderr
    missing = dk("logs", f"{ssh_client_env.alias}:{tmp_path}/nosuch.log")
    assert missing.returncode == 1 and "No such file" in missing.stderr
    assert "Check the path" in missing.stderr


def test_an_interrupted_fetch_resumes(ssh_client_env: SshClientEnv, tmp_path: Path) -> None:
    big = tmp_path / "huge.log"
    with open(big, "wb") as fh:         # sparse: big on the wire, nothing on disk
        fh.truncate(256 << 20)
    part = cached(big).with_name(".huge.log.part")
    proc = subprocess.Popen([sys.executable, "-m", "diagkit", "logs", "fetch",
                             f"{ssh_client_env.alias}:{big}"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    end = time.monotonic() + 60
    while time.monotonic() < end and not (part.exists() and part.stat().st_size > 8 << 20):
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)     # Ctrl+C
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler: where it hangs
        _, err = proc.communicate(timeout=30)
        raise AssertionError(err) from None
    assert proc.returncode == 130 and "interrupted" in err, err
    assert "was stopped. Fetch it again to resume from there." in err
    kept = part.stat().st_size
    assert 8 << 20 <= kept < 256 << 20 and not cached(big).exists()
    again = dk("logs", "fetch", f"{ssh_client_env.alias}:{big}")
    assert again.returncode == 0, again.stderr
    assert f"Resuming testhost:{big} from" in again.stderr
    assert cached(big).stat().st_size == 256 << 20 and not part.exists()
    # --restart ignores what an earlier fetch left.
    small = tmp_path / "small.log"
    small.write_text(LOG)
    cached(small).with_name(".small.log.part").write_text("stale bytes of another file")
    restart = dk("logs", "fetch", f"{ssh_client_env.alias}:{small}", "--restart")
    assert restart.returncode == 0 and "Resuming" not in restart.stderr
    assert cached(small).read_text() == LOG
