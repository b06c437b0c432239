#!/bin/sh
# Rendered by the valkey charm. Sentinel runs this at +switch-master with:
#   <monitor-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>
# It queues the charm's primary-changed event and returns at once.
# juju-exec runs as a transient systemd unit, outside this service's cgroup.
if ! systemd-run --no-block --collect --quiet '/usr/bin/juju-exec' 'valkey/1' -- env JUJU_DISPATCH_PATH=hooks/primary-changed ./dispatch </dev/null >/dev/null 2>&1; then
    '/usr/bin/juju-exec' 'valkey/1' -- env JUJU_DISPATCH_PATH=hooks/primary-changed ./dispatch </dev/null >/dev/null 2>&1 &
fi
exit 0
