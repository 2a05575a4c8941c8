"""A kernel manager for grading workers that waits for the kernel, not for a timer.

When a kernel has started, jupyter_client's client waits for the kernel's reply
to ``kernel_info`` and for one IOPub message (proof that IOPub is connected),
and then "flushes" IOPub: it reads until no message has come for 0.2 s.  Every
notebook run pays those 0.2 s in full, while neither the grader nor the kernel
computes.  Grading two ch01 submissions at once on two cores, a run takes about
2 s, so the flush alone left a core idle a tenth of the time
(``benchmarks/autograde.py``).

:class:`PromptKernelClient` keeps the protocol and drops the timer: the flush
takes only what has arrived already.  A message of the start-up that arrives
later is ignored, as it was before: nbclient reads only messages whose parent
is one of its own requests.  A grading worker's nbgrader uses
:class:`PromptKernelManager` (``convkit.course.jobs.WORKER_CONFIG``).
"""

from __future__ import annotations

import math
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

IOPUB_PROOF_SECONDS = 0.2  # how long an IOPub message may take to prove IOPub connected
SHELL_REPLY_SECONDS = 1.0  # how long to wait for one kernel_info reply before asking again


class PromptKernelClient(AsyncKernelClient):
    """An asynchronous kernel client whose :meth:`wait_for_ready` ends when the kernel is."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        """Return once the kernel has replied to ``kernel_info`` and IOPub is connected.

        Raises ``RuntimeError`` if the kernel dies first or ``timeout`` seconds pass.
        """
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=SHELL_REPLY_SECONDS)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:  # any IOPub message (a status, the welcome) proves IOPub connected
                    await self.iopub_channel.get_msg(timeout=IOPUB_PROOF_SECONDS)
                except Empty:
                    pass  # not yet connected: ask again
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
        while True:  # drop what IOPub holds already; nothing of it answers a cell
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                break


class PromptKernelManager(AsyncKernelManager):
    """An asynchronous kernel manager whose clients are :class:`PromptKernelClient`."""

    client_class = DottedObjectName("convkit.course.prompt_kernel.PromptKernelClient")
    # AsyncKernelManager redefines client_factory with its own default: set it too.
    client_factory = Type(PromptKernelClient, klass=AsyncKernelClient, config=True)

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))
