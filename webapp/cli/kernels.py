"""``kernels host`` (one Kernel Gateway process of live kernels) and ``kernels status``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from webapp.kernels.client import GatewayClient, Host, HostUnavailable
from webapp.kernels.launch import HostOptions, gateway_argv, gateway_env
from webapp.settings import settings_of


def host_options(app: Flask, url: str, **overrides: object) -> HostOptions:
    """The options of the host at ``url`` (one of LIVE_KERNEL_HOSTS) from the app's settings."""
    settings = settings_of(app)
    live, grader = settings.live, settings.grader
    parts = urlsplit(url)
    values: dict[str, object] = {
        "port": parts.port or 80,
        "ip": parts.hostname or "127.0.0.1",
        "token": live.token,
        "kernel_python": grader.kernel_python,
        "courses_dir": str(settings.courses_path),
        "pool_size": live.pool_size,
        "max_kernels": live.per_host,
        "cull_idle_s": live.idle_minutes * 60,
        "memory_mb": live.memory_mb,
        "warm_up": live.warm_up,
        "allow_unsandboxed": grader.allow_unsandboxed,
        "run_root": grader.run_root or "",
    }
    values.update(overrides)
    return HostOptions(**values)  # type: ignore[arg-type]


def start_host(options: HostOptions, *, log: str | None = None) -> subprocess.Popen[bytes]:
    """Start a kernel host process; it answers once its warm kernels are starting."""
    with open(log or os.devnull, "ab") as out:  # the child has its own copy of the descriptor
        return subprocess.Popen(  # noqa: S603 - our own command line
            gateway_argv(options),
            env=gateway_env(options, dict(os.environ)),
            stdout=out,
            stderr=out,
        )


def wait_for_host(url: str, token: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Return once the host answers; raise click.ClickException if it exits or stays silent."""
    client = GatewayClient(Host(url, token), timeout=2)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            raise click.ClickException(f"the kernel host at {url} exited ({process.returncode})")
        try:
            client.status()
            return
        except HostUnavailable:
            time.sleep(0.2)
    raise click.ClickException(f"the kernel host at {url} did not answer in {timeout:g} s")


@click.group("kernels")
def kernels_cli() -> None:
    """Live kernels: the hosts that run engineers' notebook kernels."""


@kernels_cli.command("host")
@click.option(
    "--url", default=None, help="Which of LIVE_KERNEL_HOSTS this is (default: the first)."
)
@with_appcontext
def host_command(url: str | None) -> None:
    """Run a kernel host here (Jupyter Kernel Gateway with the sandbox) until stopped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    hosts = settings_of(app).live.hosts
    if not hosts and url is None:
        raise click.ClickException("LIVE_KERNEL_HOSTS is empty: say which host this is with --url.")
    options = host_options(app, url or hosts[0])
    click.echo(f"Kernel host on {options.ip}:{options.port}, {options.pool_size} warm kernels")
    sys.stdout.flush()
    os.execve(sys.executable, gateway_argv(options), gateway_env(options, dict(os.environ)))  # noqa: S606


@kernels_cli.command("status")
@with_appcontext
def status_command() -> None:
    """Each kernel host: whether it answers, its kernels and their memory."""
    live = settings_of(current_app).live
    for url in live.hosts:
        try:
            status = GatewayClient(Host(url, live.token), timeout=5).status()
        except HostUnavailable as exc:
            click.echo(f"{url}: not answering ({exc})")
            continue
        kernels = [k for k in status["kernels"] if not k["warm"]]
        memory = sum(k["memory_bytes"] for k in status["kernels"]) / 2**20
        click.echo(
            f"{url}: {len(kernels)} in use, {status['warm']} warm of {status['pool_size']}, "
            f"{memory:.0f} MB, sandbox {status['sandbox']}"
        )
