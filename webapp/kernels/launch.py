"""The command line of one kernel host (a Jupyter Kernel Gateway process) from plain settings."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class HostOptions:
    """What a kernel host needs; ``skillforge kernels host`` builds it from the LIVE_* settings."""

    port: int
    token: str
    ip: str = "127.0.0.1"
    kernel_python: str = "/opt/skillforge/kernel/bin/python"
    courses_dir: str = "courses"
    pool_size: int = 2
    max_kernels: int = 50  # claimed kernels on this host; warm ones come on top
    cull_idle_s: int = 1800
    cull_interval_s: int = 60
    memory_mb: int = 2048
    warm_up: str | None = None  # None: the host's default
    allow_unsandboxed: bool = False
    run_root: str = ""


def gateway_argv(options: HostOptions, python: str = sys.executable) -> list[str]:
    """``python -m kernel_gateway`` with the sandboxed, pooled kernel manager and our endpoint."""
    kg = "--KernelGatewayApp."
    host = "--KernelHost."
    argv = [
        python,
        "-m",
        "kernel_gateway",
        f"{kg}ip={options.ip}",
        f"{kg}port={options.port}",
        f"{kg}port_retries=0",
        f"{kg}api=webapp.kernels.personality",
        f"{kg}kernel_manager_class=webapp.kernels.host.KernelHost",
        f"{kg}kernel_spec_manager_class=webapp.kernels.host.SandboxKernelSpecManager",
        f"{kg}default_kernel_name=skillforge",
        f"{kg}force_kernel_name=skillforge",
        f"{kg}max_kernels={options.max_kernels + options.pool_size}",
        f"{kg}log_level=WARN",
        f"--SandboxKernelSpecManager.kernel_python={options.kernel_python}",
        f"{host}kernel_python={options.kernel_python}",
        f"{host}courses_dir={options.courses_dir}",
        f"{host}pool_size={options.pool_size}",
        f"{host}memory_mb={options.memory_mb}",
        f"{host}allow_unsandboxed={options.allow_unsandboxed}",
        f"{host}run_root={options.run_root}",
        f"{host}cull_idle_timeout={options.cull_idle_s}",
        f"{host}cull_interval={options.cull_interval_s}",
    ]
    if options.warm_up is not None:
        argv.append(f"{host}warm_up={options.warm_up}")
    return argv


def gateway_env(options: HostOptions, base: dict[str, str]) -> dict[str, str]:
    """The gateway's environment: its token (never passed to kernels: they get a scrubbed one)."""
    return {**base, "KG_AUTH_TOKEN": options.token}
