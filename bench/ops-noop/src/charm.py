#!/usr/bin/env python3
"""The dispatch-cost baseline: a minimal ops charm.

Active once started; update-status is observed and does nothing, so the hook's cost is the
interpreter, the ops framework (event emission, its state store, juju-log) and nothing else.
"""

import ops


class NoopCharm(ops.CharmBase):
    """Goes active on start and never does anything else."""

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        framework.observe(self.on.start, self._on_start)
        framework.observe(self.on.update_status, self._on_update_status)

    def _on_start(self, _event: ops.StartEvent):
        self.unit.status = ops.ActiveStatus()

    def _on_update_status(self, _event: ops.UpdateStatusEvent):
        """Deliberately nothing: this is the hook being timed."""


if __name__ == "__main__":
    ops.main(NoopCharm)
