"""The kernel host's manager: kernels still starting are listed (the gateway counts them)."""

from __future__ import annotations

from webapp.kernels.host import KernelHost, SandboxKernelSpecManager
from webapp.kernels.names import KERNEL_NAME


def test_a_kernel_still_starting_is_listed_so_new_kernels_can_be_counted() -> None:
    host = KernelHost(kernel_spec_manager=SandboxKernelSpecManager())
    # A pool refill's kernel as jupyter_client holds it between being ready and jupyter_server
    # marking its activity: in the table, with no last_activity yet.
    starting, _name, kernel_id = host.pre_start_kernel(KERNEL_NAME, {})
    host._kernels[kernel_id] = starting
    try:
        listed = host.list_kernels()
    finally:
        del host._kernels[kernel_id]
    assert [k["id"] for k in listed] == [kernel_id]
    assert listed[0]["execution_state"] == "starting" and listed[0]["last_activity"] is None
