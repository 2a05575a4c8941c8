"""The grading worker's kernel client: ready as soon as the kernel is, no output lost."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from convkit.course.prompt_kernel import (
    IOPUB_PROOF_SECONDS,
    PromptKernelClient,
    PromptKernelManager,
)


class FakeChannel:
    """A channel that hands out queued messages and records every timeout asked for."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = list(messages)
        self.timeouts: list[float | None] = []

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        self.timeouts.append(timeout)
        if not self.messages:
            raise Empty
        return self.messages.pop(0)


def run(coroutine: Any) -> Any:
    """Run ``coroutine`` to its end in a thread of its own (an earlier test may have left
    an event loop running in this one, where ``asyncio.run`` refuses to start)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def reply() -> dict[str, Any]:
    return {"msg_type": "kernel_info_reply", "content": {"protocol_version": "5.3"}}


def status() -> dict[str, Any]:
    return {"msg_type": "status", "content": {"execution_state": "idle"}}


def fake_client(shell: list, iopub: list, alive: bool = True) -> tuple[PromptKernelClient, list]:
    client = PromptKernelClient()
    client._shell_channel = FakeChannel(shell)
    client._iopub_channel = FakeChannel(iopub)
    asked: list[int] = []
    client.kernel_info = lambda: asked.append(1)  # type: ignore[method-assign]

    async def is_alive() -> bool:
        return alive

    client._async_is_alive = is_alive  # type: ignore[method-assign]
    return client, asked


def test_ready_once_iopub_has_spoken_and_what_is_there_is_read_without_waiting() -> None:
    client, asked = fake_client([reply()], [status(), status(), status()])
    run(client.wait_for_ready(timeout=10))
    assert asked == [1]
    iopub = client._iopub_channel
    assert iopub.messages == []  # the start-up's messages are dropped
    # One wait for the proof, then only reads of what has arrived: never a wait on a
    # quiet IOPub (jupyter_client's own client waits 0.2 s for silence here).
    assert iopub.timeouts[0] == IOPUB_PROOF_SECONDS
    assert iopub.timeouts[1:] == [0, 0, 0]


def test_asks_again_while_iopub_is_not_connected() -> None:
    client, asked = fake_client([reply(), reply()], [])
    iopub = client._iopub_channel
    original = iopub.get_msg

    async def connect_on_second_call(timeout: float | None = None) -> dict[str, Any]:
        if len(iopub.timeouts) == 1:
            iopub.messages.append(status())  # the subscription is up by the second ask
        return await original(timeout)

    iopub.get_msg = connect_on_second_call  # type: ignore[method-assign]
    run(client.wait_for_ready(timeout=10))
    assert asked == [1, 1]


def test_a_kernel_that_dies_or_never_answers_is_an_error() -> None:
    client, _ = fake_client([], [], alive=False)
    with pytest.raises(RuntimeError, match="died"):
        run(client.wait_for_ready(timeout=10))
    client, _ = fake_client([], [])
    with pytest.raises(RuntimeError, match="didn't respond"):
        run(client.wait_for_ready(timeout=0))


def test_a_real_kernel_runs_every_cell_with_all_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited: list[PromptKernelClient] = []
    original = PromptKernelClient.wait_for_ready

    async def recorded(self: PromptKernelClient, timeout: float | None = None) -> None:
        waited.append(self)
        await original(self, timeout)

    monkeypatch.setattr(PromptKernelClient, "wait_for_ready", recorded)
    cells = [
        "print('first', flush=True)",
        "import sys; print('to stderr', file=sys.stderr)",
        "for i in range(3): print(i)",
        "40 + 2",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(
        nb, kernel_name="python3", kernel_manager_class=PromptKernelManager, resources={
            "metadata": {"path": str(tmp_path)}
        }
    )
    client.execute()
    assert len(waited) == 1  # nbclient started the kernel through PromptKernelClient
    texts = [
        "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        for cell in nb.cells
    ]
    assert texts[:3] == ["first\n", "to stderr\n", "0\n1\n2\n"]
    assert nb.cells[3].outputs[0]["data"]["text/plain"] == "42"
    assert [cell.execution_count for cell in nb.cells] == [1, 2, 3, 4]

