"""Kernel manager for the workshop's Voilà server: idle culling that spares pre-heated kernels.

Voilà's pre-heated kernels wait in a pool without a browser connection, so jupyter_server's
idle culler (needed to end the kernels of closed pages) would shut them down after
``cull_idle_timeout`` and break the next page that takes one from the pool. This manager
skips kernels still waiting in Voilà's pool; every other kernel is culled as usual.
``toolkit.workshop.VoilaServer`` selects it with
``--VoilaConfiguration.multi_kernel_manager_class``.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

__all__ = ["PoolSafeKernelManager", "pooled_kernel_ids"]


def pooled_kernel_ids(manager: Any) -> set[str]:
    """Ids of the kernels waiting in Voilà's pre-heated pools (started and not yet handed out).

    Example
    -------
    >>> class Done:
    ...     def done(self): return True
    ...     def cancelled(self): return False
    ...     def exception(self): return None
    ...     def result(self): return {"kernel_id": "k1"}
    >>> class M: _pools = {"form.ipynb": [Done()]}
    >>> pooled_kernel_ids(M())
    {'k1'}
    """
    ids: set[str] = set()
    for pool in getattr(manager, "_pools", {}).values():
        for item in pool:
            try:
                if item.done() and not item.cancelled() and item.exception() is None:
                    ids.add(item.result()["kernel_id"])
            except Exception:  # a pool entry in an unexpected state is simply not protected
                continue
    return ids


class PoolSafeKernelManager(AsyncMappingKernelManager):
    """``AsyncMappingKernelManager`` whose idle culler leaves pre-heated pool kernels alone."""

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if kernel_id in pooled_kernel_ids(self):
            self.log.debug("not culling pre-heated kernel %s", kernel_id)
            return
        await super().cull_kernel_if_idle(kernel_id)
